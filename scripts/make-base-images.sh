#!/usr/bin/env bash
# Makes the base images the Dockerfile names, when the local image store lacks
# them (no container registry is reachable here): a Debian 12 root from
# debootstrap --variant=minbase, out of the Debian mirror apt already uses,
# imported with `podman import`.
#
#   scripts/make-base-images.sh [--force]
#
#   docker.io/library/debian:12        minbase
#   docker.io/library/debian:12-slim   minbase without documentation, man
#                                      pages and locales, and dpkg told to
#                                      keep them out (as the official slim)
#
# The image's apt sources are the host's Debian ones (bookworm,
# bookworm-updates, bookworm-security), so a Dockerfile `apt-get install` gets
# the same package versions the host built and tested against.
# --force rebuilds both even when present.
set -euo pipefail
force=0
[ "${1:-}" = --force ] && force=1
suite=bookworm

mirror_of_host() {  # the first Debian archive URI apt uses here
  local uri=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i !~ /security/) {print $i; exit}}' \
      /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:/) {print $i; exit}}' \
      /etc/apt/sources.list)
  fi
  printf '%s' "${uri:-http://deb.debian.org/debian}"
}

host_sources() {  # DIR: the host's Debian sources into the new root
  local dir=$1
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    rm -f "$dir/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/debian.sources "$dir/etc/apt/sources.list.d/debian.sources"
  elif [ -r /etc/apt/sources.list ]; then
    grep -E '^deb .*debian' /etc/apt/sources.list >"$dir/etc/apt/sources.list"
  fi
}

slim_down() {  # DIR: what the official -slim images leave out
  local dir=$1
  cat >"$dir/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
CFG
  find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$dir/usr/share/man/"* "$dir/usr/share/info/"* "$dir/usr/share/locale/"* \
    "$dir/usr/share/groff/"* "$dir/usr/share/lintian/"*
}

import_root() {  # DIR TAG
  local dir=$1 tag=$2
  tar --numeric-owner --xattrs -C "$dir" -c . |
    podman import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --message "debootstrap --variant=minbase $suite" - "$tag" >/dev/null
  echo "make-base-images: $tag imported ($(podman image inspect --format '{{.Size}}' "$tag") bytes)"
}

absent() {  # TAG: true when it must be made
  [ "$force" = 1 ] || ! podman image exists "$1"
}

# One debootstrap for both (it is most of the time, ~3.5 min on 2 cores):
# the full root is imported as debian:12, then slimmed and imported as -slim.
make_bases() {
  local full=docker.io/library/debian:12 slim=docker.io/library/debian:12-slim dir mirror start
  if ! absent "$full" && ! absent "$slim"; then
    echo "make-base-images: $full and $slim present"
    return 0
  fi
  start=$SECONDS
  mirror=$(mirror_of_host)
  dir=$(mktemp -d /var/tmp/outpost-base.XXXXXX)
  trap 'rm -rf "$dir"' RETURN
  echo "make-base-images: debootstrap --variant=minbase $suite from $mirror"
  debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$dir.log" 2>&1 ||
    { tail -n 20 "$dir.log" >&2; rm -f "$dir.log"; return 1; }
  rm -f "$dir.log"
  host_sources "$dir"
  # As the official images: apt deletes downloaded packages after installing.
  cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* "$dir"/var/log/* "$dir"/tmp/*
  if absent "$full"; then import_root "$dir" "$full"; fi
  slim_down "$dir"
  if absent "$slim"; then import_root "$dir" "$slim"; fi
  echo "make-base-images: done in $((SECONDS - start)) s"
}

command -v debootstrap >/dev/null || { echo "make-base-images: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
make_bases

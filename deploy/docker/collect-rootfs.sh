#!/bin/bash
# Gathers a minimal root file system for a FROM-scratch image (the Dockerfile's
# agent-rootfs and hub-rootfs stages run it inside debian:12-slim with the
# runtime packages installed):
#
#   collect-rootfs.sh ROOTFS [--tree DIR]... [--dlopen SONAME]... BINARY...
#
# Copies each BINARY, every shared object `ldd` resolves for it, each
# --dlopen SONAME (a library the binary opens at run time, found with
# `ldconfig -p`) with what `ldd` resolves for it (and, when a
# binary links libmariadb, its client plugins, which it loads at run time for
# MySQL 8's caching_sha2_password), each --tree DIR whole (the hub's
# /usr/share/zoneinfo), the dynamic loader, the CA bundle, and writes
# /etc/passwd, /etc/group (root and outpost 10001), /etc/nsswitch.conf, /tmp
# (1777) and /work (10001). Writes ROOTFS/usr/share/outpost/image-files.tsv:
# one line per copied file: path, sha256, bytes, Debian package, version,
# source package, source version, architecture, the licence names of the
# package's machine-readable copyright file ("-" where unknown).
set -euo pipefail
usage() { echo "usage: collect-rootfs.sh ROOTFS [--tree DIR]... [--dlopen SONAME]... BINARY..." >&2; exit 2; }
[ $# -gt 0 ] || usage
rootfs=$1
shift
trees=()
while [ "${1:-}" = --tree ]; do
  [ -d "${2:-}" ] || { echo "collect-rootfs: --tree ${2:-}: not a directory" >&2; exit 2; }
  trees+=("$2")
  shift 2
done
sonames=()
while [ "${1:-}" = --dlopen ]; do
  [ -n "${2:-}" ] || usage
  sonames+=("$2")
  shift 2
done
[ $# -gt 0 ] || usage
rm -rf "$rootfs"
mkdir -p "$rootfs"
# The usr-merge links (/lib -> usr/lib, /lib64 -> usr/lib64), as in Debian 12.
for link in /lib /lib64 /bin /sbin; do
  if [ -L "$link" ]; then cp -a "$link" "$rootfs$link"; fi
done

declare -A copied=()
put() {  # PATH: into the rootfs as it is (a symlink stays a symlink)
  mkdir -p "$rootfs$(dirname "$1")"
  cp -a "$1" "$rootfs$1"
}
copy_path() {  # a path as a program names it: its symlinks and final file
  local path=$1 dir
  dir=$(readlink -f "$(dirname "$path")")
  path=$dir/$(basename "$path")
  while [ -z "${copied[$path]:-}" ]; do
    copied[$path]=1
    put "$path"
    [ -L "$path" ] || break
    local target
    target=$(readlink "$path")
    case $target in /*) ;; *) target=$dir/$target ;; esac
    dir=$(readlink -f "$(dirname "$target")")
    path=$dir/$(basename "$target")
  done
}
copy_with_libs() {
  local file=$1 lib
  copy_path "$file"
  if ldd "$file" | grep -q 'not found'; then
    ldd "$file" >&2
    echo "collect-rootfs: $file has unresolved libraries" >&2
    exit 1
  fi
  while read -r lib; do copy_path "$lib"; done < <(ldd "$file" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
}

for bin in "$@"; do copy_with_libs "$bin"; done
for soname in "${sonames[@]}"; do
  # The path the dynamic loader would open for dlopen("SONAME") on this machine.
  # awk reads to the end: an early exit would SIGPIPE ldconfig and, under
  # pipefail, fail the assignment at random.
  lib=$(ldconfig -p | awk -v name="$soname" '$1 == name && /x86-64|aarch64|64bit/ && !found {print $NF; found = 1}')
  [ -n "$lib" ] || lib=$(ldconfig -p | awk -v name="$soname" '$1 == name && !found {print $NF; found = 1}')
  [ -n "$lib" ] || { echo "collect-rootfs: --dlopen $soname: not installed" >&2; exit 1; }
  copy_with_libs "$lib"
done
shopt -s nullglob
if printf '%s\n' "${!copied[@]}" | grep -q '/libmariadb\.so'; then
  for plugin in /usr/lib/*/libmariadb3/plugin/*.so; do
    copy_with_libs "$plugin"
  done
fi
for tree in "${trees[@]}"; do
  tree=$(readlink -f "$tree")
  mkdir -p "$rootfs$(dirname "$tree")"
  cp -a "$tree" "$rootfs$tree"
  while IFS= read -r -d '' path; do copied[$path]=1; done < <(find "$tree" -type f -print0)
done
copy_path /etc/ssl/certs/ca-certificates.crt
# OpenSSL's compiled-in defaults: /usr/lib/ssl/{cert.pem,certs,openssl.cnf}.
for f in /usr/lib/ssl/cert.pem /usr/lib/ssl/openssl.cnf /etc/ssl/openssl.cnf; do
  if [ -e "$f" ]; then put "$f"; copied[$f]=1; fi
done
if [ -L /usr/lib/ssl/certs ]; then put /usr/lib/ssl/certs; fi

mkdir -p "$rootfs/etc" "$rootfs/tmp" "$rootfs/work" "$rootfs/usr/share/outpost"
chmod 1777 "$rootfs/tmp"
chown 10001:10001 "$rootfs/work"
printf 'root:x:0:0:root:/root:/sbin/nologin\noutpost:x:10001:10001:outpost:/work:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\noutpost:x:10001:\n' >"$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

licenses_of() {  # PACKAGE: the License: names of its DEP-5 copyright file
  local names
  names=$(sed -n 's/^License: *\([^ ]*\).*/\1/p' "/usr/share/doc/${1%%:*}/copyright" 2>/dev/null | sort -u | paste -sd ' ')
  printf '%s' "${names:--}"
}
manifest=$rootfs/usr/share/outpost/image-files.tsv
printf '# path\tsha256\tbytes\tpackage\tversion\tsource\tsource_version\tarch\tlicenses\n' >"$manifest"
mapfile -t files < <(for path in "${!copied[@]}"; do [ -L "$path" ] || echo "$path"; done | sort)
# Owners from dpkg's file lists in one grep (a zoneinfo tree has ~900 files;
# `dpkg -S` per file takes minutes): the path as dpkg knows it, or, usr-merge,
# its /lib path for many libraries.
declare -A owner_of=() meta_of=() licenses_of_pkg=() sum_of=() bytes_of=()
while read -r sum path; do sum_of[$path]=$sum; done < <(sha256sum "${files[@]}")
while read -r bytes path; do bytes_of[$path]=$bytes; done < <(stat -c '%s %n' "${files[@]}")
while IFS= read -r line; do
  list=${line%%:/*} path=/${line#*:/}
  pkg=$(basename "$list" .list)
  owner_of[$path]=${pkg%%:*}
done < <(printf '%s\n' "${files[@]}" "${files[@]#/usr}" |
  grep -F -x -h -f - --with-filename /var/lib/dpkg/info/*.list || true)
for path in "${files[@]}"; do
  sum=${sum_of[$path]} bytes=${bytes_of[$path]}
  owner=${owner_of[$path]:-${owner_of[${path#/usr}]:-}}
  # update-ca-certificates generates the bundle from the ca-certificates package.
  [ "$path" != /etc/ssl/certs/ca-certificates.crt ] || owner=ca-certificates
  if [ -n "$owner" ]; then
    if [ -z "${meta_of[$owner]:-}" ]; then
      meta_of[$owner]=$(dpkg-query -W -f '${Version}\t${source:Package}\t${source:Version}\t${Architecture}' "$owner")
      licenses_of_pkg[$owner]=$(licenses_of "$owner")
    fi
    meta=${meta_of[$owner]}
    licenses=${licenses_of_pkg[$owner]}
  else
    owner=-
    meta=$(printf -- '-\t-\t-\t-')
    licenses=-
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$path" "$sum" "$bytes" "$owner" "$meta" "$licenses" >>"$manifest"
done
echo "collect-rootfs: $(grep -vc '^#' "$manifest") files, $(du -sb "$rootfs" | cut -f1) bytes in $rootfs"

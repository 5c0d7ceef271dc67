#!/usr/bin/env bash
# The Dockerfile's build stage as a plain script, so CI checks it without a
# container engine: install the dependencies, configure and build the release
# preset, install into a staging prefix, then check the staged tree:
#
#   - the agent behaves as the image's ENTRYPOINT must (--version, --help,
#     @.options.cmd relative to the working directory, exit 2 with no URL);
#   - every shared library the binaries load comes from a package listed in
#     deploy/docker/runtime-packages.txt, one of their dependencies, or the
#     debian:12-slim base;
#   - prints the run-time file list and sizes (also written to a manifest).
#
#   scripts/build-image-steps.sh [--stage DIR] [--build-dir DIR]
#     --stage      staging root (default build/image-stage); files go to DIR/usr/local
#     --build-dir  CMake build dir (default $OUTPOST_IMAGE_BUILD_DIR, else
#                  build/release: reused when present, so a warm run only relinks)
#   OUTPOST_SKIP_DEPS=1   skip scripts/install-deps.sh
#   OUTPOST_JOBS=N        build parallelism (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

stage=build/image-stage
build_dir=${OUTPOST_IMAGE_BUILD_DIR:-build/release}
while [ $# -gt 0 ]; do
  case $1 in
    --stage) stage=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    -h | --help) sed -n "2,20p" "$0"; exit 0 ;;
    *) echo "build-image-steps: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case $stage in /*) ;; *) stage=$root/$stage ;; esac
case $build_dir in /*) ;; *) build_dir=$root/$build_dir ;; esac
jobs=${OUTPOST_JOBS:-$(nproc)}
prefix=$stage/usr/local
manifest=$(dirname "$stage")/image-manifest.txt

step() { printf '\n-- build-image-steps: %s\n' "$*"; }
fail() { echo "build-image-steps: FAILED: $*" >&2; exit 1; }

if [ -z "${OUTPOST_SKIP_DEPS:-}" ]; then
  step "dependencies (scripts/install-deps.sh)"
  scripts/install-deps.sh
fi

step "configure + build (release preset) in ${build_dir#"$root"/}"
start=$(date +%s)
cmake --preset release -B "$build_dir" >/dev/null
cmake --build "$build_dir" --target outpost-agent outpost-hub -j "$jobs"
echo "build: $(( $(date +%s) - start )) s"

step "install into ${stage#"$root"/}"
rm -rf "$stage"
mkdir -p "$prefix/bin"
cmake --install "$build_dir" --prefix "$prefix" --strip >/dev/null
for bin in src/outpost-agent hub/outpost-hub; do
  name=$(basename "$bin")
  if [ ! -x "$prefix/bin/$name" ]; then
    # No install() rule for it: stage the built binary the same way.
    [ -x "$build_dir/$bin" ] || fail "$build_dir/$bin was not built"
    install -m 0755 -s "$build_dir/$bin" "$prefix/bin/$name"
    echo "staged $name from the build tree (it has no install rule)"
  fi
done
install -m 0755 deploy/docker/outpost-healthcheck "$prefix/bin/outpost-healthcheck"

step "entrypoint behaviour of the staged agent"
agent=$prefix/bin/outpost-agent
version=$("$agent" --version) || fail "outpost-agent --version exited $?"
[[ $version == "outpost-agent "* ]] || fail "--version printed '$version'"
echo "--version: ${version%%$'\n'*}"
"$agent" --help >/dev/null || fail "outpost-agent --help exited $?"
echo "--help: exit 0"
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
printf '# options file, as mounted at /work/.options.cmd\n--version\n' >"$workdir/.options.cmd"
(cd "$workdir" && "$agent" @.options.cmd >/dev/null) || fail "outpost-agent @.options.cmd exited $?"
echo "@.options.cmd (relative to the working directory): exit 0"
set +e
(cd "$workdir" && env -u AGENT_URL -u AGENT_INSTANCE_API_URL "$agent" >/dev/null 2>"$workdir/err")
status=$?
set -e
[ "$status" -eq 2 ] || fail "outpost-agent without --url exited $status, expected 2"
echo "no arguments: exit 2 with: $(head -n1 "$workdir/err")"

step "shared libraries vs deploy/docker/runtime-packages.txt"
# Always in debian:12-slim (apt itself depends on them).
base_packages="libc6 libgcc-s1 libstdc++6"
listed=$(grep -v -e '^#' -e '^$' deploy/docker/runtime-packages.txt | sort -u)
needed=""
for bin in "$prefix/bin/outpost-agent" "$prefix/bin/outpost-hub"; do
  if ldd "$bin" | grep -q 'not found'; then
    ldd "$bin" | grep 'not found' >&2
    fail "$(basename "$bin") has unresolved libraries"
  fi
  while read -r lib; do
    pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -n1 | cut -d: -f1) || true
    [ -n "$pkg" ] || pkg=$(dpkg -S "$lib" 2>/dev/null | head -n1 | cut -d: -f1) || true
    [ -n "$pkg" ] || fail "no Debian package owns $lib (needed by $(basename "$bin"))"
    printf '  %-16s %-48s %s\n' "$(basename "$bin")" "$lib" "$pkg"
    needed="$needed $pkg"
  done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
done
# The client libraries the agent opens with dlopen (not in ldd's list), and theirs.
while read -r soname; do
  # awk reads to the end: an early exit would SIGPIPE ldconfig and, under
  # pipefail, fail the assignment (and the script) at random.
  lib=$(ldconfig -p | awk -v name="$soname" '$1 == name && !found {print $NF; found = 1}')
  [ -n "$lib" ] || fail "the agent opens $soname (deploy/docker/client-libraries.txt): not installed"
  for dep in "$lib" $(ldd "$lib" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
    pkg=$(dpkg -S "$(readlink -f "$dep")" 2>/dev/null | head -n1 | cut -d: -f1) || true
    [ -n "$pkg" ] || pkg=$(dpkg -S "$dep" 2>/dev/null | head -n1 | cut -d: -f1) || true
    [ -n "$pkg" ] || fail "no Debian package owns $dep (opened by outpost-agent via $soname)"
    [ "$dep" != "$lib" ] || printf '  %-16s %-48s %s\n' "outpost-agent" "$lib (dlopen)" "$pkg"
    needed="$needed $pkg"
  done
done < <(grep -v -e '^#' -e '^$' deploy/docker/client-libraries.txt)
needed=$(tr ' ' '\n' <<<"$needed" | grep -v '^$' | sort -u)
# What apt installs for the list: the listed packages, the base, and
# everything they depend on (read from dpkg's database, so it works offline
# and in the build stage after the apt lists are removed).
# shellcheck disable=SC2086
provided=$(python3 - $listed $base_packages <<'PY'
import re, sys
deps, todo, seen = {}, list(sys.argv[1:]), set()
for para in open("/var/lib/dpkg/status", encoding="utf-8").read().split("\n\n"):
    name = re.search(r"^Package: (.+)$", para, re.M)
    if not name or "Status: install ok installed" not in para:
        continue
    fields = re.findall(r"^(?:Pre-)?Depends: (.+)$", para, re.M)
    deps[name.group(1)] = [re.sub(r"[ (:].*", "", alt.strip())
                           for field in fields for dep in field.split(",") for alt in dep.split("|")]
while todo:
    pkg = todo.pop()
    if pkg in seen:
        continue
    seen.add(pkg)
    todo.extend(d for d in deps.get(pkg, []) if d in deps)
print("\n".join(sorted(seen)))
PY
)
missing=""
for pkg in $needed; do
  grep -qx "$pkg" <<<"$provided" || missing="$missing $pkg"
done
[ -z "$missing" ] || fail "the binaries need package(s)$missing: add them to deploy/docker/runtime-packages.txt"
for pkg in $listed; do
  if [ "$pkg" != ca-certificates ] && ! grep -qx "$pkg" <<<"$needed"; then
    echo "note: $pkg is listed but no binary links or opens it (kept for ODBC drivers / future use?)"
  fi
done
echo "every library is provided by runtime-packages.txt (with dependencies) or the slim base"

step "run-time file set (staging tree)"
{
  echo "# Outpost image run-time files, from ${stage#"$root"/} ($(date -u +%FT%TZ))"
  (cd "$stage" && find . -type f -printf '%s\t/%P\n' | sort -k2)
  total=$(du -sb "$stage" | cut -f1)
  echo "total: $total bytes ($(( (total + 524287) / 1048576 )) MiB)"
  # What the runtime-packages layer adds to debian:12-slim: the packages the
  # list pulls in (with dependencies) that a minbase system (Priority:
  # required, plus apt) does not already have, by dpkg's Installed-Size.
  # shellcheck disable=SC2086
  python3 - $listed <<'PY'
import re, sys
info = {}
for para in open("/var/lib/dpkg/status", encoding="utf-8").read().split("\n\n"):
    name = re.search(r"^Package: (.+)$", para, re.M)
    if not name or "Status: install ok installed" not in para:
        continue
    fields = re.findall(r"^(?:Pre-)?Depends: (.+)$", para, re.M)
    size = re.search(r"^Installed-Size: (\d+)$", para, re.M)
    info[name.group(1)] = {
        "deps": [re.sub(r"[ (:].*", "", a.strip()) for f in fields for d in f.split(",") for a in d.split("|")],
        "required": bool(re.search(r"^Priority: required$", para, re.M)),
        "kib": int(size.group(1)) if size else 0}
def closure(start):
    seen, todo = set(), list(start)
    while todo:
        p = todo.pop()
        if p in seen or p not in info:
            continue
        seen.add(p)
        todo.extend(info[p]["deps"])
    return seen
base = closure([p for p, i in info.items() if i["required"]] + ["apt"])
added = sorted(closure(sys.argv[1:]) - base)
kib = sum(info[p]["kib"] for p in added)
print(f"runtime packages layer: about {kib} KiB ({(kib + 512) // 1024} MiB) installed on top of debian:12-slim, "
      f"{len(added)} packages: {' '.join(added)}")
PY
} | tee "$manifest"
echo "manifest: ${manifest#"$root"/}"

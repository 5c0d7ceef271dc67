#!/usr/bin/env bash
# The container images, built and run for real (scripts/test.sh's "image"
# stage): no Docker engine here, so Podman and Buildah with chroot isolation.
#
#   1. base images: docker.io/library/debian:12 and :12-slim from debootstrap
#      when absent (scripts/make-base-images.sh; kept afterwards);
#   2. binaries: build/image-stage from scripts/build-image-steps.sh (the
#      deploy stage made it already; built here when missing);
#   3. `podman build --isolation chroot --format docker --build-arg
#      BINARIES=prebuilt` of the hub and agent targets, tagged as the
#      Kubernetes manifests and Helm charts name them (outpost-hub:VERSION,
#      outpost-agent:VERSION), created timestamp = the commit's time;
#   4. both images: size within its budget, no shell or package manager,
#      OCI labels, HEALTHCHECK `outpost-agent healthcheck` / `outpost-hub
#      healthcheck` (deploy/tools/check-image-config.sh);
#   5. the images run (deploy/tools/run-image.sh): the hub image serves on
#      loopback, the agent image as uid 10001 with the seed's flags runs a job,
#      --version/--help/missing token (2)/wrong token (3), healthcheck, and
#      writes nothing outside /tmp;
#   6. SBOMs: build/image/sbom.json (agent) and build/image/sbom-hub.json
#      (CycloneDX 1.5), validated against the vendored schema with ajv (npm,
#      in build/image-tools).
#
#   OUTPOST_AGENT_IMAGE_BUDGET_MIB   agent image budget (default 40)
#   OUTPOST_HUB_IMAGE_BUDGET_MIB     hub image budget (default 35)
#   OUTPOST_IMAGE_SOURCE, OUTPOST_IMAGE_LICENSES
#                                    the source and licenses labels (default NOASSERTION:
#                                    the repository has no LICENSE file)
#   OUTPOST_SKIP_DEPS=1              do not apt-get/npm install missing tools
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build/image
tools=$root/build/image-tools
mkdir -p "$out" "$tools"
start_all=$SECONDS
version=$(sed -n 's/^project(outpost VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
agent_image=localhost/outpost-agent:$version
hub_image=localhost/outpost-hub:$version
agent_budget=${OUTPOST_AGENT_IMAGE_BUDGET_MIB:-40}
hub_budget=${OUTPOST_HUB_IMAGE_BUDGET_MIB:-35}

step() { printf '\n-- check-image: %s (%d s)\n' "$*" $((SECONDS - start_all)); }
fail() { echo "check-image: FAILED: $*" >&2; exit 1; }

step "tools"
missing=()
for tool in podman buildah debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ -z "${OUTPOST_SKIP_DEPS:-}" ] || fail "missing ${missing[*]} and OUTPOST_SKIP_DEPS is set"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! cmp -s deploy/docker/sbom/package.json "$tools/package.json" || [ ! -x "$tools/node_modules/.bin/ajv" ]; then
  [ -z "${OUTPOST_SKIP_DEPS:-}" ] || fail "no ajv in $tools and OUTPOST_SKIP_DEPS is set"
  cp deploy/docker/sbom/package.json "$tools/package.json"
  (cd "$tools" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "podman $(podman --version | awk '{print $3}'), buildah $(buildah --version | awk '{print $3}')"

step "base images"
scripts/make-base-images.sh

step "binaries (build/image-stage)"
if [ ! -x build/image-stage/usr/local/bin/outpost-agent ] || [ ! -x build/image-stage/usr/local/bin/outpost-hub ]; then
  scripts/build-image-steps.sh
fi
ls -l build/image-stage/usr/local/bin

build_target() {  # TARGET IMAGE
  local t0=$SECONDS label args=()
  # The labels again as --label: buildah 1.28 reuses a cached LABEL layer
  # when only the build argument in it changed (a stale revision otherwise).
  for label in "version=$version" "revision=$revision" "created=$(date -u -d "@$epoch" +%FT%TZ)" \
    "source=${OUTPOST_IMAGE_SOURCE:-NOASSERTION}" "licenses=${OUTPOST_IMAGE_LICENSES:-NOASSERTION}"; do
    args+=(--build-arg "$(tr '[:lower:]' '[:upper:]' <<<"${label%%=*}")=${label#*=}"
      --label "org.opencontainers.image.$label")
  done
  podman build --isolation chroot --format docker --layers --timestamp "$epoch" \
    --build-arg BINARIES=prebuilt "${args[@]}" \
    --target "$1" -t "$2" . >"$out/build-$1.log" 2>&1 || { tail -n 30 "$out/build-$1.log" >&2; fail "podman build --target $1"; }
  # Same binaries as a cached build of another commit: buildah then hands
  # back that image, labels and all (1.28 keys no cache entry on label
  # values). Rebuild without the cache so the labels name this commit.
  if [ "$(podman image inspect --format '{{index .Labels "org.opencontainers.image.revision"}}' "$2")" != "$revision" ]; then
    echo "$2: cached image carries another revision's labels: rebuilding without the layer cache"
    podman build --isolation chroot --format docker --no-cache --timestamp "$epoch" \
      --build-arg BINARIES=prebuilt "${args[@]}" \
      --target "$1" -t "$2" . >"$out/build-$1.log" 2>&1 || { tail -n 30 "$out/build-$1.log" >&2; fail "podman build --target $1"; }
  fi
  echo "built $2 (target $1) in $((SECONDS - t0)) s: $(podman image inspect --format '{{.Id}}' "$2" | cut -c1-12)"
}
step "podman build (hub, agent)"
build_target hub "$hub_image"
build_target agent "$agent_image"

step "image checks"
deploy/tools/check-image-config.sh "$agent_image" "$hub_image" "$agent_budget" "$hub_budget" "$version" "$revision" |
  tee "$out/sizes.txt"

step "run the images (deploy/tools/run-image.sh)"
deploy/tools/run-image.sh "$agent_image" "$hub_image"

step "SBOMs (build/image/sbom.json, sbom-hub.json: CycloneDX 1.5)"
for pair in "outpost-agent:$agent_image:sbom.json" "outpost-hub:$hub_image:sbom-hub.json"; do
  name=${pair%%:*} rest=${pair#*:}
  image=${rest%:*} sbom=$out/${rest##*:}
  python3 deploy/docker/sbom/make-sbom.py --image "$image" --name "$name" --version "$version" \
    --revision "$revision" --epoch "$epoch" --build-dir build/release --out "$sbom"
  "$tools/node_modules/.bin/ajv" validate --spec=draft7 --strict=false -c ajv-formats \
    -s deploy/docker/sbom/bom-1.5.schema.json -r deploy/docker/sbom/spdx.schema.json \
    -r deploy/docker/sbom/jsf-0.82.schema.json -d "$sbom" 2>"$out/ajv.err" ||
    { grep -v '^unknown format' "$out/ajv.err" >&2; fail "${sbom#"$root"/} does not validate"; }
done
# (ajv-formats lacks iri-reference and idn-email: fields the SBOM does not use)
echo "check-image: all checks passed in $((SECONDS - start_all)) s"

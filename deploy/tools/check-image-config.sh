#!/usr/bin/env bash
# Static checks of the built images (scripts/check-image.sh step 4):
#
#   deploy/tools/check-image-config.sh AGENT_IMAGE HUB_IMAGE AGENT_BUDGET_MIB HUB_BUDGET_MIB VERSION REVISION
#
# sizes within budget (uncompressed, `podman image inspect {{.Size}}`); OCI
# labels source, revision, version, licenses; both images have no shell and
# no package manager, run as 10001:10001, their HEALTHCHECK is
# `outpost-agent healthcheck` / `outpost-hub healthcheck`; the Kubernetes
# manifests and Helm charts name the images and the tag the build produced.
set -euo pipefail
cd "$(dirname "$0")/../.."
agent_image=$1 hub_image=$2 agent_budget=$3 hub_budget=$4 version=$5 revision=$6
failed=0
bad() { echo "FAILED: $*" >&2; failed=1; }

for pair in "$agent_image:$agent_budget" "$hub_image:$hub_budget"; do
  image=${pair%:*} budget=${pair##*:}
  size=$(podman image inspect --format '{{.Size}}' "$image")
  mib=$(python3 -c "print(f'{$size / 1048576:.1f}')")
  echo "size: $image $size bytes ($mib MiB uncompressed; budget $budget MiB)"
  [ "$size" -le $((budget * 1048576)) ] || bad "$image is $mib MiB, over its budget of $budget MiB"
  for label in source revision version licenses title; do
    value=$(podman image inspect --format "{{index .Labels \"org.opencontainers.image.$label\"}}" "$image")
    [ -n "$value" ] && [ "$value" != "<no value>" ] || bad "$image has no label org.opencontainers.image.$label"
  done
  [ "$(podman image inspect --format '{{index .Labels "org.opencontainers.image.version"}}' "$image")" = "$version" ] ||
    bad "$image: version label is not $version"
  [ "$(podman image inspect --format '{{index .Labels "org.opencontainers.image.revision"}}' "$image")" = "$revision" ] ||
    bad "$image: revision label is not $revision"
  [ "$(podman image inspect --format '{{.Config.User}}' "$image")" = 10001:10001 ] || bad "$image does not run as 10001:10001"
done

for pair in "$agent_image:outpost-agent" "$hub_image:outpost-hub"; do
  image=${pair%:*} name=${pair##*:}
  health=$(podman image inspect --format '{{json .Config.Healthcheck.Test}}' "$image")
  [ "$health" = "[\"CMD\",\"$name\",\"healthcheck\"]" ] || bad "$image HEALTHCHECK is $health"
  [ "$(podman image inspect --format '{{json .Config.Entrypoint}}' "$image")" = "[\"$name\"]" ] ||
    bad "$image ENTRYPOINT is not [\"$name\"]"

  # The image's file system: nothing to run but the program.
  ctr=$(buildah from --pull=never "$image")
  mnt=$(buildah mount "$ctr")
  for f in bin/sh usr/bin/sh bin/bash usr/bin/bash usr/bin/apt usr/bin/apt-get usr/bin/dpkg usr/bin/perl usr/bin/env; do
    [ ! -e "$mnt/$f" ] || bad "$image contains /$f"
  done
  echo "$name image: $(find "$mnt" -type f | wc -l) files, $(find "$mnt" -type f -name '*.so*' | wc -l) shared objects, no shell or package manager"
  find "$mnt" -type f -printf '%s\t/%P\n' | sort -k2 >"build/image/${name#outpost-}-files.txt"
  buildah rm "$ctr" >/dev/null
done

# Manifests and charts pull what the build tags (docker.io/library/NAME:TAG
# on a Docker host, localhost/NAME:TAG under podman: both are NAME:TAG).
for f in deploy/kubernetes/deployment.yaml deploy/kubernetes/statefulset/statefulset.yaml; do
  grep -q "image: ${agent_image#localhost/}\$" "$f" || bad "$f does not name ${agent_image#localhost/}"
done
grep -q "image: ${hub_image#localhost/}\$" deploy/kubernetes/hub/deployment.yaml ||
  bad "deploy/kubernetes/hub/deployment.yaml does not name ${hub_image#localhost/}"
for chart in outpost-agent outpost-hub; do
  grep -qx "  repository: $chart" "deploy/helm/$chart/values.yaml" || bad "deploy/helm/$chart/values.yaml: repository is not $chart"
  grep -qx "appVersion: \"\?$version\"\?" "deploy/helm/$chart/Chart.yaml" || bad "deploy/helm/$chart/Chart.yaml: appVersion is not $version"
done
[ "$failed" = 0 ] && echo "image configuration, labels, budgets and manifest image names: ok"
exit "$failed"

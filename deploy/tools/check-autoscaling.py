#!/usr/bin/env python3
"""Checks the rendered autoscaling examples beyond their schemas.

    check-autoscaling.py RENDER_DIR   (autoscaling-keda.yaml, autoscaling-hpa.yaml)

- KEDA: the ScaledObject's Prometheus trigger queries outpost_hub_queue_depth
  for one pool with max() (every hub replica reports the whole store's queue);
- HPA: only an External metric outpost_hub_queue_depth with a pool selector;
  the prometheus-adapter rule names that metric and aggregates with max;
- every PromQL expression parses: written as recording rules into a temp file
  and checked with `promtool check rules` (the adapter's <<.Series>> and
  <<.LabelMatchers>> templates are filled in as the adapter would).
"""
import os
import subprocess
import sys
import tempfile

import yaml


def docs(path):
    return [d for d in yaml.safe_load_all(open(path)) if d]


def main():
    out = sys.argv[1]
    errors, exprs = [], []

    keda = [d for d in docs(os.path.join(out, "autoscaling-keda.yaml")) if d["kind"] == "ScaledObject"]
    for so in keda:
        for t in so["spec"]["triggers"]:
            q = t["metadata"]["query"]
            exprs.append(q)
            if "outpost_hub_queue_depth" not in q or "pool=" not in q or not q.startswith("max("):
                errors.append(f"ScaledObject {so['metadata']['name']}: query {q!r} should be "
                              "max(outpost_hub_queue_depth{pool=\"…\"})")
    if not keda:
        errors.append("autoscaling-keda.yaml: no ScaledObject")

    hpa_docs = docs(os.path.join(out, "autoscaling-hpa.yaml"))
    hpas = [d for d in hpa_docs if d["kind"] == "HorizontalPodAutoscaler"]
    for h in hpas:
        metrics = h["spec"].get("metrics", [])
        kinds = [m["type"] for m in metrics]
        if kinds != ["External"]:
            errors.append(f"HPA {h['metadata']['name']}: metrics {kinds}, expected only External")
        for m in metrics:
            ext = m.get("external", {})
            if ext.get("metric", {}).get("name") != "outpost_hub_queue_depth" or \
                    "pool" not in ext.get("metric", {}).get("selector", {}).get("matchLabels", {}):
                errors.append(f"HPA {h['metadata']['name']}: External metric must be outpost_hub_queue_depth "
                              "with a pool selector")
    if not hpas:
        errors.append("autoscaling-hpa.yaml: no HorizontalPodAutoscaler")
    rules = [yaml.safe_load(d["data"]["config.yaml"]) for d in hpa_docs
             if d["kind"] == "ConfigMap" and "config.yaml" in d.get("data", {})]
    names = []
    for r in rules:
        for rule in r.get("externalRules", []):
            names.append(rule["name"]["as"])
            q = rule["metricsQuery"].replace("<<.Series>>", "outpost_hub_queue_depth") \
                .replace("<<.LabelMatchers>>", 'namespace="outpost",pool="pool_default"')
            if not q.startswith("max by (pool)"):
                errors.append(f"adapter rule {rule['name']['as']}: aggregate with max by (pool), not {q!r}")
            exprs.append(q)
            exprs.append(rule["seriesQuery"])
    if "outpost_hub_queue_depth" not in names:
        errors.append("no prometheus-adapter externalRule exposes outpost_hub_queue_depth")

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "autoscaling-queries", "rules": [
            {"record": f"check:autoscaling_query_{i}", "expr": e} for i, e in enumerate(exprs)]}]}, f)
        path = f.name
    run = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
    os.unlink(path)
    if run.returncode != 0:
        errors.append("PromQL does not parse: " + (run.stdout + run.stderr).strip()[-600:])
    for e in errors:
        print("check-autoscaling:", e, file=sys.stderr)
    if not errors:
        print(f"check-autoscaling: {len(keda)} ScaledObject(s), {len(hpas)} HPA(s), {len(exprs)} PromQL "
              "expressions parse")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()

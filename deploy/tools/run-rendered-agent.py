#!/usr/bin/env python3
"""Starts the built agent with exactly the options a rendered manifest gives it.

    run-rendered-agent.py AGENT_BINARY RENDERED.yaml

For each Deployment/StatefulSet container in RENDERED.yaml this builds what
the kubelet would give the process: the container's `args`; its environment
(literal `env` values, `$(POD_NAME)` for pod 0, and the data of ConfigMaps
named in `envFrom`); and its volume mounts, materialised under a temp dir
(Secrets and ConfigMaps in the render are written out; Secrets that the
manifest expects to exist already, such as `token.existingSecret`, get
stand-in files: a token, or a throwaway certificate and key). Paths in the
arguments are mapped into that temp dir. Then the agent runs with three
overrides that keep it local: the control plane at a closed loopback port,
`--max-retries=1` and `--health-addr=off` (later options win, and the
command line wins over the environment, so everything else is parsed and
validated by the real option parser and start-up code).

Expected: exit 1 (options and files accepted, then no control plane). Exit 2
means the manifest gives the agent something it refuses.
"""
import base64
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import yaml


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode())


def stand_in(path, tmp):
    """Content for a file that an existing (external) Secret would provide."""
    if path.endswith((".crt", ".key", ".pem")):
        cert, key = os.path.join(tmp, "standin.crt"), os.path.join(tmp, "standin.key")
        if not os.path.exists(cert):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                            "/CN=outpost-agent", "-keyout", key, "-out", cert],
                           check=True, capture_output=True)
        shutil.copy(key if path.endswith(".key") else cert, path)
    else:
        write(path, "rendered-manifest-check\n")


def run_container(agent, rendered, workload, c, objects):
    pod = workload["spec"]["template"]["spec"]
    pod_name = workload["metadata"]["name"] + "-0"
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_")}
    for ref in c.get("envFrom", []):
        if "configMapRef" in ref:
            env.update(objects.get(("ConfigMap", ref["configMapRef"]["name"]), {}).get("data", {}))
    env.update({e["name"]: e["value"] for e in c.get("env", []) if "value" in e})
    args = [a.replace("$(POD_NAME)", pod_name) for a in c.get("args", [])]

    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "root")
        mounts = sorted(c.get("volumeMounts", []), key=lambda m: -len(m["mountPath"]))
        for m in mounts:
            target = root + m["mountPath"]
            os.makedirs(target, exist_ok=True)
            volume = volumes[m["name"]]
            files = {}
            if "secret" in volume:
                obj = objects.get(("Secret", volume["secret"]["secretName"]), {})
                files = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
                files.update({k: v for k, v in (obj.get("stringData") or {}).items()})
            elif "configMap" in volume:
                files = (objects.get(("ConfigMap", volume["configMap"]["name"])) or {}).get("data", {})
            for name, content in files.items():
                write(os.path.join(target, name), content)
        mapped = []
        for a in args:
            for m in mounts:  # longest mount path first; map each argument once
                if "=" + m["mountPath"] + "/" in a:
                    a = a.replace("=" + m["mountPath"] + "/", "=" + root + m["mountPath"] + "/", 1)
                    break
            mapped.append(a)
            value = a.split("=", 1)[1] if "=" in a else ""
            if value.startswith(root) and not value.startswith(root + "/var/lib/") and not os.path.exists(value):
                stand_in(value, tmp)  # a file an existing Secret would hold
        overrides = [f"--url=http://127.0.0.1:{closed_port()}/api", "--max-retries=1", "--health-addr=off"]
        where = f"{rendered}: {workload['kind']}/{workload['metadata']['name']} container {c['name']}"
        try:
            proc = subprocess.run([agent] + mapped + overrides, env=env, cwd=tmp,
                                  capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            print(f"{where}: agent still running after 60 s", file=sys.stderr)
            return False
    last = (proc.stderr.strip().splitlines() or [""])[-1]
    if proc.returncode == 1:
        print(f"{where}: {len(args)} args, {len(c.get('envFrom', []))} envFrom accepted; "
              f"exit 1 without a control plane, as intended: {last[:160]}")
        return True
    print(f"{where}: agent exited {proc.returncode}, expected 1 (options rejected?)\n"
          f"  args: {args}\n  stderr: {proc.stderr.strip()[-600:]}", file=sys.stderr)
    return False


def main():
    agent, rendered = sys.argv[1], sys.argv[2]
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    objects = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    ok, runs = True, 0
    for d in docs:
        if d["kind"] in ("Deployment", "StatefulSet"):
            for c in d["spec"]["template"]["spec"]["containers"]:
                runs += 1
                ok = run_container(agent, rendered, d, c, objects) and ok
    if runs == 0:
        print(f"{rendered}: no Deployment/StatefulSet container found", file=sys.stderr)
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

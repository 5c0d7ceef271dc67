#!/usr/bin/env python3
"""Runs the Compose trial's hub and agent commands with the real binaries.

    run-compose-commands.py AGENT_BINARY HUB_BINARY deploy/compose/docker-compose.yml

No container engine: the `command:` of the `hub` and `agent` services is run
as-is, with the volume paths (/tls, /agent-token) mapped into a temp dir that
holds a fresh self-signed certificate and a token file, and with these
changes: the hub's --listen value becomes 127.0.0.1:0; the agent gets (later
options win) a closed loopback URL, --max-retries=1 and --health-addr=off.

Passes when the hub starts with its TLS options (its "hub started" log line
says tls true) and stops cleanly on SIGTERM, and the agent accepts its
options (exit 1: no control plane) rather than refusing them (exit 2).
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def map_paths(args, root):
    out = []
    for a in args:
        for mount in ("/tls/", "/agent-token/"):
            if a.startswith(mount):
                a = root + a
        out.append(a)
    return out


def main():
    agent, hub, compose_file = sys.argv[1:4]
    services = yaml.safe_load(open(compose_file))["services"]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "root")
        os.makedirs(root + "/tls")
        os.makedirs(root + "/agent-token")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "1", "-subj", "/CN=hub", "-addext", "subjectAltName=DNS:hub",
                        "-keyout", root + "/tls/tls.key", "-out", root + "/tls/tls.crt"],
                       check=True, capture_output=True)
        with open(root + "/agent-token/token", "w") as f:
            f.write("compose-check-token\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_")}

        # Hub: must start with TLS and stop cleanly.
        hub_env = dict(env, OUTPOST_HUB_ADMIN_TOKEN="compose-check-admin")
        # The hub takes --listen once: replace its value rather than add one.
        hub_args = map_paths(services["hub"]["command"], root)
        if "--listen" not in hub_args:
            print("compose hub command has no --listen", file=sys.stderr)
            sys.exit(1)
        hub_args[hub_args.index("--listen") + 1] = "127.0.0.1:0"
        log = open(os.path.join(tmp, "hub.log"), "w+")
        proc = subprocess.Popen([hub] + hub_args, env=hub_env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        started = False
        while time.monotonic() < deadline and proc.poll() is None:
            log.seek(0)
            text = log.read()
            if "hub started" in text:
                started = True
                break
            time.sleep(0.05)  # polling the log file, bounded by the deadline
        log.seek(0)
        text = log.read()
        tls_on = '"tls":true' in text.replace(" ", "") or "tls=true" in text
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = "killed after 20 s"
        else:
            code = proc.returncode
        if started and tls_on and code == 0:
            print(f"compose hub command: started with TLS, stopped cleanly: {' '.join(services['hub']['command'])}")
        else:
            print(f"compose hub command failed: started={started} tls={tls_on} exit={code}\n{text[-800:]}",
                  file=sys.stderr)
            ok = False

        # Agent: its options must be accepted.
        agent_args = map_paths(services["agent"]["command"], root) + [
            f"--url=http://127.0.0.1:{closed_port()}/api", "--max-retries=1", "--health-addr=off"]
        run = subprocess.run([agent] + agent_args, env=env, cwd=tmp, capture_output=True, text=True,
                             timeout=60)
        if run.returncode == 1:
            print(f"compose agent command: options accepted (exit 1 without a control plane): "
                  f"{' '.join(services['agent']['command'])}")
        else:
            print(f"compose agent command: exit {run.returncode}, expected 1: {run.stderr.strip()[-600:]}",
                  file=sys.stderr)
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

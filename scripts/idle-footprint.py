#!/usr/bin/env python3
"""Idle RSS and PSS of one or more outpost-agent binaries, side by side.

  scripts/idle-footprint.py [--hub build/release/hub/outpost-hub] [--rounds 3]
                            [--breakdown] [--tls] AGENT [AGENT...]

Starts one outpost-hub (memory store) on a free loopback port, then each agent
in turn (alternating, --rounds times) against it with --max-concurrency 32,
waits for "agent started" plus a settle second, and reads
/proc/PID/smaps_rollup. --breakdown also prints the last round's per-mapping
table (scripts/smaps-breakdown.py). --tls serves the hub over HTTPS with a
throwaway self-signed certificate (the agent trusts it with --ca-file), as a
production control plane is. Prints the median of each binary.
"""
import argparse
import importlib.util
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ADMIN = "footprint-admin-token"
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_post(port, path, body, tls=None):
    scheme = "https" if tls else "http"
    req = urllib.request.Request(f"{scheme}://127.0.0.1:{port}{path}",
                                 data=json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {ADMIN}",
                                          "Content-Type": "application/json"})
    context = ssl.create_default_context(cafile=tls) if tls else None
    with urllib.request.urlopen(req, timeout=5, context=context) as r:
        return json.loads(r.read())


def wait_hub(port, tls=None):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            return admin_post(port, "/api/v1/admin/tokens", {"name": "footprint"}, tls)["token"]
        except OSError:
            time.sleep(0.05)
    sys.exit("outpost-hub did not start")


class Hub:
    """One outpost-hub on a free loopback port, over HTTPS with tls=True.
    agent_args() are the options that point an agent at it."""

    def __init__(self, binary, tls=False):
        self.port = free_port()
        self.tls = None
        args = [binary, "--listen", f"127.0.0.1:{self.port}", "--admin-token", ADMIN]
        if tls:
            self._dir = tempfile.TemporaryDirectory()
            cert, key = (os.path.join(self._dir.name, n) for n in ("hub.pem", "hub.key"))
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                            "1", "-subj", "/CN=127.0.0.1", "-addext",
                            "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                           check=True, capture_output=True)
            self.tls = cert
            args += ["--tls-cert", cert, "--tls-key", key]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.token = wait_hub(self.port, self.tls)

    def agent_args(self):
        scheme = "https" if self.tls else "http"
        args = ["--url", f"{scheme}://127.0.0.1:{self.port}/api"]
        return args + (["--ca-file", self.tls] if self.tls else [])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def _load_smaps_breakdown():
    spec = importlib.util.spec_from_file_location("smaps_breakdown",
                                                  os.path.join(HERE, "smaps-breakdown.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rollup = _load_smaps_breakdown().rollup  # /proc/PID/smaps_rollup as {field: kB}


def measure(agent, hub, breakdown):
    proc = subprocess.Popen([agent, *hub.agent_args(), "--max-concurrency",
                             "32", "--health-addr", "off", "--log-level", "info"],
                            env={**os.environ, "AGENT_TOKEN": hub.token}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 15
        for line in proc.stdout:
            if '"agent started"' in line:
                break
            if time.monotonic() > deadline:
                sys.exit(f"{agent} did not start")
        time.sleep(1.0)  # let start-up allocations settle, as the bench does
        r = rollup(proc.pid)
        if breakdown:
            subprocess.run([sys.executable, os.path.join(HERE, "smaps-breakdown.py"),
                            str(proc.pid), "--markdown"], check=True)
        return r["Rss"] / 1024, r["Pss"] / 1024
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hub", default="build/release/hub/outpost-hub")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--breakdown", action="store_true")
    p.add_argument("--tls", action="store_true")
    p.add_argument("agents", nargs="+")
    a = p.parse_args()
    hub = Hub(a.hub, a.tls)
    try:
        results = {agent: [] for agent in a.agents}
        for round_ in range(a.rounds):
            for agent in a.agents:
                last = a.breakdown and round_ == a.rounds - 1
                if last:
                    print(f"\n{agent}:")
                results[agent].append(measure(agent, hub, last))
        print(f"\nload: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        for agent, rs in results.items():
            rss = statistics.median(r[0] for r in rs)
            pss = statistics.median(r[1] for r in rs)
            print(f"{agent}: idle RSS {rss:.2f} MiB, PSS {pss:.2f} MiB "
                  f"(runs: {', '.join(f'{r[0]:.2f}/{r[1]:.2f}' for r in rs)})")
    finally:
        hub.stop()


if __name__ == "__main__":
    main()

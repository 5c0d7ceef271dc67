#!/usr/bin/env python3
"""Idle RSS and PSS of one or more outpost-agent binaries, side by side.

  scripts/idle-footprint.py [--hub build/release/hub/outpost-hub] [--rounds 3]
                            [--breakdown] AGENT [AGENT...]

Starts one outpost-hub (memory store) on a free loopback port, then each agent
in turn (alternating, --rounds times) against it with --max-concurrency 32,
waits for "agent started" plus a settle second, and reads
/proc/PID/smaps_rollup. --breakdown also prints the last round's per-mapping
table (scripts/smaps-breakdown.py). Prints the median of each binary.
"""
import argparse
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ADMIN = "footprint-admin-token"
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {ADMIN}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def wait_hub(port):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            return admin_post(port, "/api/v1/admin/tokens", {"name": "footprint"})["token"]
        except OSError:
            time.sleep(0.05)
    sys.exit("outpost-hub did not start")


def _load_smaps_breakdown():
    spec = importlib.util.spec_from_file_location("smaps_breakdown",
                                                  os.path.join(HERE, "smaps-breakdown.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rollup = _load_smaps_breakdown().rollup  # /proc/PID/smaps_rollup as {field: kB}


def measure(agent, port, token, breakdown):
    proc = subprocess.Popen([agent, "--url", f"http://127.0.0.1:{port}/api", "--max-concurrency",
                             "32", "--health-addr", "off", "--log-level", "info"],
                            env={**os.environ, "AGENT_TOKEN": token}, stdout=subprocess.PIPE,
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
    p.add_argument("agents", nargs="+")
    a = p.parse_args()
    port = free_port()
    hub = subprocess.Popen([a.hub, "--listen", f"127.0.0.1:{port}", "--admin-token", ADMIN],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        token = wait_hub(port)
        results = {agent: [] for agent in a.agents}
        for round_ in range(a.rounds):
            for agent in a.agents:
                last = a.breakdown and round_ == a.rounds - 1
                if last:
                    print(f"\n{agent}:")
                results[agent].append(measure(agent, port, token, last))
        print(f"\nload: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        for agent, rs in results.items():
            rss = statistics.median(r[0] for r in rs)
            pss = statistics.median(r[1] for r in rs)
            print(f"{agent}: idle RSS {rss:.2f} MiB, PSS {pss:.2f} MiB "
                  f"(runs: {', '.join(f'{r[0]:.2f}/{r[1]:.2f}' for r in rs)})")
    finally:
        hub.terminate()
        hub.wait(10)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Per-mapping Rss and Pss of a process, from /proc/PID/smaps (docs/benchmarks.md).

  scripts/smaps-breakdown.py PID [--markdown]

Mappings of one file are summed; anonymous mappings are grouped as
"[heap, stacks, anon]". Totals are cross-checked against smaps_rollup.
"""
import os
import sys
from collections import defaultdict


def read_smaps(pid):
    rss, pss = defaultdict(int), defaultdict(int)
    name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            fields = line.split()
            if not fields:
                continue
            if "-" in fields[0] and not fields[0].endswith(":"):
                path = fields[5] if len(fields) > 5 else ""
                if not path or path in ("[heap]", "[stack]") or path.startswith("[anon"):
                    name = "[heap, stacks, anon]"
                elif path.startswith("["):
                    name = path  # [vdso], [vvar], …
                else:
                    name = os.path.basename(path)
            elif fields[0] == "Rss:":
                rss[name] += int(fields[1])
            elif fields[0] == "Pss:":
                pss[name] += int(fields[1])
    return rss, pss


def rollup(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 2 and fields[0].endswith(":") and fields[1].isdigit():
                out[fields[0][:-1]] = int(fields[1])
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    pid = sys.argv[1]
    markdown = "--markdown" in sys.argv[2:]
    rss, pss = read_smaps(pid)
    rows = sorted(rss, key=lambda k: rss[k], reverse=True)
    if markdown:
        print("| mapping | RSS KiB | PSS KiB |\n|---|---:|---:|")
    for name in rows:
        if rss[name] == 0:
            continue
        if markdown:
            print(f"| `{name}` | {rss[name]} | {pss[name]} |")
        else:
            print(f"{name:40s} {rss[name]:8d} KiB rss {pss[name]:8d} KiB pss")
    total = rollup(pid)
    line = (f"total: Rss {total.get('Rss', 0) / 1024:.2f} MiB, Pss {total.get('Pss', 0) / 1024:.2f} MiB "
            f"(anon {total.get('Pss_Anon', 0) / 1024:.2f}, file {total.get('Pss_File', 0) / 1024:.2f})")
    print(("| **" + line + "** | | |") if markdown else line)


if __name__ == "__main__":
    main()

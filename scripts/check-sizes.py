#!/usr/bin/env python3
"""Files over 400 lines and functions over 60 lines in src/, hub/, connectors/.

A file (or function) may be longer when a comment in its first lines (or just
above the function) says why, starting "Over 400 lines" / "Over 60 lines".
Functions are found by their braces: a definition starting in column 0 (free
functions, out-of-class members) up to the next "}" in column 0. Members
defined inside a class body and lambdas are not measured (clang-tidy's
readability-function-size can take over once the tree is clean).

    scripts/check-sizes.py        lists offenders; exit 1 if there are any
"""
import re
import subprocess
import sys

MAX_FILE, MAX_FUNCTION = 400, 60
SKIP = ("hub/console/assets/",)
START = re.compile(r"^[A-Za-z_][^;=]*\)\s*(const\s*)?(noexcept\s*)?(override\s*)?\{$")
NOT_FUNCTION = re.compile(r"^(namespace|class|struct|enum|union|extern|template|#|//)")


def reason_above(lines, index, phrase):
    return any(phrase in line for line in lines[max(0, index - 3):index])


def check(path):
    found = []
    lines = open(path, encoding="utf-8").read().split("\n")
    if len(lines) - 1 > MAX_FILE and not any("Over 400 lines" in line for line in lines[:5]):
        found.append(f"{path}: {len(lines) - 1} lines (max {MAX_FILE})")
    i = 0
    while i < len(lines):
        line = lines[i]
        if START.match(line) and not NOT_FUNCTION.match(line):
            end = i + 1
            while end < len(lines) and not lines[end].startswith("}"):
                end += 1
            length = end - i + 1
            if length > MAX_FUNCTION and not reason_above(lines, i, "Over 60 lines"):
                found.append(f"{path}:{i + 1}: function of {length} lines: {line[:70]}")
            i = end
        i += 1
    return found


def main():
    files = subprocess.check_output(
        ["git", "ls-files", "src/*.cpp", "src/*.hpp", "hub/*.cpp", "hub/*.hpp",
         "connectors/*.cpp", "connectors/*.hpp"], text=True).split()
    found = [f for path in files if not path.startswith(SKIP) for f in check(path)]
    for line in found:
        print(line)
    print(f"check-sizes: {len(found)} over the limits in {len(files)} files", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

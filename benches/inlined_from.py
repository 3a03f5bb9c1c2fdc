#!/usr/bin/env python3
"""Instructions a request run by the code of one source file, wherever the compiler inlined it:

    REQUESTS=6000 SIM=1 KEEP=1 CALLGRIND_ARGS=--dump-instr=yes benches/instructions.sh BIN
    python3 benches/inlined_from.py CG_OUT BIN FILE [REQUESTS]

Counts every instruction of BIN run in the profile whose inline chain (`addr2line -i` on its
address) passes through FILE (e.g. `io_deadlines.rs`), divided by REQUESTS (6,000), and prints
the functions it was inlined into and the innermost frames (the library code it called, such as
a thread-local's look-up or a bounds check). Where code is inlined, a function's inclusive count
at its call site no longer isolates it; this does. Needs binutils' `addr2line` and a build with
debug info (the release profile has `debug = 1`).
"""
import collections
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hot_lines import parse  # noqa: E402


def chains(binary, addresses):
    """Per address: its inline chain, innermost first, as 'function' and 'file:line' pairs."""
    out = subprocess.run(
        ["addr2line", "-i", "-f", "-a", "-e", binary] + [hex(a) for a in addresses],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    result, current = {}, None
    i = 0
    while i < len(out):
        if out[i].startswith("0x"):
            current = int(out[i], 16)
            result[current] = []
            i += 1
        else:
            result[current].append((out[i], out[i + 1]))
            i += 2
    return result


def main():
    path, binary, needle = sys.argv[1], sys.argv[2], sys.argv[3]
    requests = int(sys.argv[4]) if len(sys.argv) > 4 else 6000
    ir, _, fn_of = parse(path)
    name = os.path.basename(binary)
    keys = [key for key in ir if key[0] and os.path.basename(key[0]) == name and ir[key] > 0]
    chain = chains(binary, sorted({address for _, address in keys}))
    total, into, inner = 0, collections.Counter(), collections.Counter()
    for key in keys:
        frames = chain.get(key[1], [])
        if any(needle in place for _, place in frames):
            total += ir[key]
            into[fn_of[key]] += ir[key]
            inner[frames[0][1].split("/")[-1]] += ir[key]
    print(f"{needle}: {total / requests:.1f} instructions a request")
    print("inlined into:")
    for function, n in into.most_common(6):
        if n >= requests / 10:
            print(f"  {n / requests:7.1f}  {function[:110]}")
    print("innermost frames:")
    for place, n in inner.most_common(16):
        if n >= requests / 10:
            print(f"  {n / requests:7.1f}  {place}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The request path's hot code, from a callgrind profile made per instruction:

    REQUESTS=6000 SIM=1 KEEP=1 CALLGRIND_ARGS=--dump-instr=yes benches/instructions.sh BIN
    python3 benches/hot_lines.py CG_OUT [REQUESTS]

Prints the hot code's footprint: the 64-byte lines holding an instruction run at least once a
request (callgrind's "Ir" of the line, divided by the requests), in KiB beside the modelled
32 KiB 8-way L1i; how many hot lines each of its 64 sets holds, and the modelled misses of the
sets that hold more than 8 (a walk through more lines than a set has ways evicts each before it
comes round again); the bytes of the instructions run at least once a request within those
lines (how densely the hot blocks are packed); and the functions holding the most hot lines.
"""
import collections
import re
import sys


def parse(path):
    """Per (object, address): instructions run, L1i misses, and the function."""
    ir, miss, fn_of = collections.Counter(), collections.Counter(), {}
    names = {"ob": {}, "fn": {}}
    obj = fn = None
    addr = 0
    skip_next = False
    with open(path) as lines:
        for raw in lines:
            line = raw.rstrip("\n")
            if not line:
                continue
            if line[0] in "0123456789+-*":
                parts = line.split()
                a = parts[0]
                if a.startswith("0x"):
                    addr = int(a, 16)
                elif a[0] in "+-":
                    step = int(a[1:], 16) if a[1:].startswith("0x") else int(a[1:])
                    addr = addr + step if a[0] == "+" else addr - step
                if skip_next:  # a call's inclusive cost, not this function's
                    skip_next = False
                    continue
                events = [int(x) for x in parts[2:]]
                if events:
                    ir[(obj, addr)] += events[0]
                    miss[(obj, addr)] += events[3] if len(events) > 3 else 0
                    fn_of[(obj, addr)] = fn
                continue
            m = re.match(r"(c?)(ob|fn)=\((\d+)\)(?: (.*))?$", line)
            if m:
                table = names[m.group(2)]
                if m.group(4):
                    table.setdefault(m.group(3), m.group(4))
                if not m.group(1):
                    if m.group(2) == "ob":
                        obj = table[m.group(3)]
                    else:
                        fn = table[m.group(3)]
            elif line.startswith("calls="):
                skip_next = True
    if "I1mr" not in open(path).read(4096):
        sys.exit("no cache model in this profile: run benches/instructions.sh with SIM=1")
    return ir, miss, fn_of


def main():
    path = sys.argv[1]
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 6000
    ir, miss, fn_of = parse(path)
    lines = collections.defaultdict(lambda: [0, 0])
    for (obj, addr), n in ir.items():
        line = lines[(obj, addr >> 6)]
        line[0] += n
        line[1] += miss[(obj, addr)]
    hot = {key: v for key, v in lines.items() if v[0] >= requests}
    total_miss = sum(v[1] for v in lines.values()) / requests
    print(f"hot lines: {len(hot)} ({len(hot) * 64 / 1024:.1f} KiB; L1i 32 KiB, 512 lines of 64 sets x 8 ways)")
    per_set = collections.Counter((line & 63) for (_, line) in hot)
    set_miss = collections.Counter()
    for (_, line), v in hot.items():
        set_miss[line & 63] += v[1]
    over = sum(set_miss[s] for s, n in per_set.items() if n > 8) / requests
    print("hot lines per set (lines: sets):", ", ".join(f"{k}: {v}" for k, v in sorted(collections.Counter(per_set.values()).items())))
    print(f"modelled L1i misses a request: {total_miss:.1f}, {over:.1f} of them in sets holding more than 8 hot lines")
    # Bytes of the instructions run at least once a request (an instruction's size: the distance
    # to the next address run, at most 15).
    keys = sorted(ir)
    hot_bytes = collections.Counter()
    fn_lines = collections.defaultdict(set)
    for i, key in enumerate(keys):
        if ir[key] < requests:
            continue
        nxt = keys[i + 1][1] if i + 1 < len(keys) and keys[i + 1][0] == key[0] else key[1] + 4
        hot_bytes[fn_of[key]] += min(max(nxt - key[1], 1), 15)
        fn_lines[fn_of[key]].add((key[0], key[1] >> 6))
    all_bytes = sum(hot_bytes.values())
    all_lines = len(set().union(*fn_lines.values())) if fn_lines else 0
    print(f"hot instructions: {all_bytes / 1024:.1f} KiB in {all_lines} lines ({all_lines * 64 / 1024:.1f} KiB):"
          f" {all_bytes / max(all_lines * 64, 1):.0%} of those lines' bytes")
    print("function: hot lines, hot bytes (share of its lines' bytes), modelled misses a request")
    fn_miss = collections.Counter()
    for key, m in miss.items():
        fn_miss[fn_of[key]] += m
    for fn, fl in sorted(fn_lines.items(), key=lambda kv: -len(kv[1]))[:15]:
        print(f"  {len(fl):4d} {hot_bytes[fn]:6d} B ({hot_bytes[fn] / (len(fl) * 64):.0%}) {fn_miss[fn] / requests:6.1f}  {str(fn)[:100]}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A result file of N transaction names, made from a run's result file for the memory benches of
`merge --html` and `compare --html` (see benches/README.md, "`merge --html` and `compare --html`
at 10,000 names"): the run's transactions copied, in turn, under the names t00000, t00001, ...,
and the totals' counts made to agree with them (`merge` checks each file's totals against its
transactions' raw counters).

    python3 benches/names_files.py RUN.json N OUT.json
"""

import json
import sys

# The totals `merge` checks against the transactions' counters: each is their sum.
SUMMED = ["requests", "ok", "errors", "not_sent", "transactions", "transaction_errors"]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    source, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(source) as f:
        run = json.load(f)
    originals = run["transactions"]
    if not originals:
        sys.exit(f"{source}: no transaction to copy")
    copies = []
    for i in range(count):
        txn = dict(originals[i % len(originals)])
        txn["name"] = f"t{i:05d}"
        copies.append(txn)
    # Each original is copied count / len times, or once more for the first count % len.
    times = [count // len(originals) + (1 if i < count % len(originals) else 0) for i in range(len(originals))]
    for field in SUMMED:
        per_original = [raw_sum(t, field) for t in originals]
        run["totals"][field] = sum(n * v for n, v in zip(times, per_original))
    run["transactions"] = copies
    # A copy of this file must not stand for the run it was made from.
    run["run_id"] = f"names-{count}-{run.get('run_id', 'run')}"
    with open(out, "w") as f:
        json.dump(run, f)


def raw_sum(txn, field):
    """A transaction's share of the totals' `field`, from its raw counters."""
    raw = txn["raw"]
    errors = sum(raw["req_err"].values())
    return {
        "requests": raw["req_ok"] + errors - raw["not_sent"],
        "ok": raw["req_ok"],
        "errors": errors,
        "not_sent": raw["not_sent"],
        "transactions": raw["txn_ok"] + raw["txn_err"],
        "transaction_errors": raw["txn_err"],
    }[field]


if __name__ == "__main__":
    main()

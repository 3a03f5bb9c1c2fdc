#!/usr/bin/env bash
# Instructions per response read by the codec alone (issue 15's response parsing), counted by
# callgrind in the `response_parse` criterion bench: ResponseReader::feed inclusive (the head
# parsed or recalled from the head memo, framing decided, raw head split off, body decoded), and
# what a head parsed costs and httparse's share of it, per parse, for each response of that
# bench. Instruction counts do not depend on the machine's load.
#   benches/response_instructions.sh              # every case
#   benches/response_instructions.sh nginx        # one case (nginx, mite_target, app, chunked,
#                                                 # nginx_every_head_new)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -q -p mite-benches --bench response_parse --no-run 2>/dev/null
bin=$(ls -t target/release/deps/response_parse-* | grep -v '\.d$' | head -1)
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
for case in "${@:-nginx mite_target app chunked nginx_every_head_new}"; do
    for one in $case; do
        valgrind --tool=callgrind --callgrind-out-file="$work/$one.out" "$bin" --bench --profile-time 1 \
            "response_parse/$one\$" >"$work/$one.log" 2>&1 || { echo "$one: the bench failed" >&2; cat "$work/$one.log" >&2; exit 1; }
        python3 - "$work/$one.out" "$one" <<'PY'
import re, subprocess, sys
out, case = sys.argv[1:]
text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=calling", out],
                      capture_output=True, text=True).stdout
def per_call(*symbols):
    """Inclusive instructions per call of the first symbol found, from its callers' lines
    ("N (p%)  >   file:symbol (Cx)"), and the calls."""
    for symbol in symbols:
        found = [(int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))) for m in re.finditer(
            r"^\s*([\d,]+) \([^)]*\)\s+>\s+\S*:" + re.escape(symbol) + r" \(([\d,]+)x\)", text, re.M)]
        if found:
            instructions, calls = max(found)
            return instructions / calls, calls
    return 0, 0
feed, calls = per_call("mite_codec::response::ResponseReader::feed")
# A head the memo holds is answered inline in `feed`; one it does not is parsed out of line.
head, _ = per_call("mite_codec::head::parse_new_head", "mite_codec::head::parse_head_step")
httparse, _ = per_call("httparse::ParserConfig::parse_response_with_uninit_headers", "httparse::Response::parse")
print(f"{case:12} {calls:>8,} responses: ResponseReader::feed {feed:6,.0f} instructions each, "
      f"a head parsed (not recalled) {head:6,.0f}, httparse {httparse:6,.0f}")
PY
    done
done

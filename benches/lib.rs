//! Benchmarks for mite-engine: `codec.rs` (criterion, per-request cost of encoding a request
//! and parsing a response) and `harness.sh` (the side-by-side loopback comparison with wrk).
//! See README.md in this folder for the figures and the commands that produced them.

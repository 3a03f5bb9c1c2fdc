//! Execution: driver choice, the per-core loop, journey slots, arrival scheduling, the shard
//! (one core's state), the injector's own load, and why io_uring could not start.

pub mod arrivals;
pub mod injector_load;
pub mod runtime;
pub mod shard;
pub mod uring_diagnosis;

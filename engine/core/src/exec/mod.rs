//! Execution on each core: the core loop (volume-model ticks, snapshots, the graceful stop),
//! open-model arrival scheduling and its accounting, the run's stop as every core sees it, and
//! the injector's own lag probe.

pub mod arrivals;
pub mod core_loop;
pub mod injector_load;
pub mod run_stop;
pub mod scheduler;

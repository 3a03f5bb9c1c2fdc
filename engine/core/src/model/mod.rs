//! The runtime-agnostic model of a run: configuration, datapools, volume models, the
//! split across segments and cores, core lists. Folder rule: nothing here names the executor
//! (monoio) or a socket; everything is unit-tested without I/O.

pub mod config;
pub mod cores;
pub mod datapool;
pub mod split;
pub mod volume;

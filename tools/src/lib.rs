//! Local target servers for tests, the demo and benchmarks: a fast plain-HTTP target with
//! well-behaved and hostile routes, and a TLS variant. Loopback only by default.

pub mod quirks;
pub mod request;
pub mod route;
pub mod server;
pub mod session_routes;

pub use server::{Target, TargetOptions};
pub mod tls_server;
pub mod ws;

pub use tls_server::TlsTarget;

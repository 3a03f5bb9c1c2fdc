//! The hand-rolled HTTP/1.1 client: URL parsing, TLS setup, transport and the per-core pool.

mod addresses;
mod buffers;
pub mod client;
pub mod cookie;
pub mod fields;
pub mod form;
mod open_files;
pub(crate) mod out_of_line;
pub mod redirect;
pub mod resolver;
pub(crate) mod timings;
pub mod tls;
pub mod transport;
pub mod url;

pub use client::{HttpClient, HttpError, HttpSettings, Response, Timings};
pub use tls::TlsOptions;
pub use url::{Url, UrlError};

//! Everything a run produces: the result file, the table, compare and merge, the HTML pages,
//! the HDR log, Prometheus exposition, thresholds and the per-interval timeline, and the events
//! a run reports as it goes (the library never prints).

pub mod events;
pub mod exposition;
pub mod hdr_log;
pub mod html;
pub mod live_server;
pub mod merge_by_name;
pub mod merge_parts;
pub mod merge_timeline;
pub mod outcome;
pub mod report;
pub mod result_file;
pub mod result_frame;
pub mod results;
pub mod threshold;
pub mod timeline;
pub mod units;
pub mod websocket;

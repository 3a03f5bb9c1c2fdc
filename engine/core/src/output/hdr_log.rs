//! HDR interval logs (the HdrHistogram log format read by HistogramLogProcessor and
//! HdrHistogram plotters): one line per transaction per interval, tagged with its name.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::output::results::encode_histogram;
use crate::stats::Merged;

/// An open interval log.
pub struct HdrLog {
    out: BufWriter<File>,
}

/// A tag may not hold spaces or commas: they become `_`.
pub fn tag_for(name: &str) -> String {
    name.chars().map(|c| if c == ' ' || c == ',' || c == '\r' || c == '\n' { '_' } else { c }).collect()
}

impl HdrLog {
    /// Creates the file and writes the header. Times in the log are seconds since the start.
    pub fn create(path: &Path, started_at_unix_s: f64) -> io::Result<HdrLog> {
        let mut out = BufWriter::new(File::create(path)?);
        writeln!(out, "#[Histograms of mite-engine transaction latencies in microseconds]")?;
        writeln!(
            out,
            "#[Tag = transaction name, spaces and commas as _; request times where the transaction sent requests]"
        )?;
        writeln!(out, "#[StartTime: {started_at_unix_s:.3} (seconds since epoch)]")?;
        writeln!(out, "#[BaseTime: {started_at_unix_s:.3} (seconds since epoch)]")?;
        writeln!(out, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"")?;
        Ok(HdrLog { out })
    }

    /// Writes one interval: a line per transaction active in it.
    pub fn write_interval(&mut self, interval: &Merged, start_s: f64, length_s: f64) -> io::Result<()> {
        for (name, stats) in &interval.txns {
            let h = if stats.req_us.is_empty() { &stats.txn_us } else { &stats.req_us };
            if h.is_empty() {
                continue;
            }
            writeln!(
                self.out,
                "Tag={},{start_s:.3},{length_s:.3},{:.3},{}",
                tag_for(name),
                h.max() as f64,
                encode_histogram(h)
            )?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_have_no_spaces_or_commas() {
        assert_eq!(tag_for("outer :: inner,x"), "outer_::_inner_x");
    }
}

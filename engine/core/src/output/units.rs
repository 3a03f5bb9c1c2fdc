//! Numbers for people: thousands grouped, microseconds as milliseconds, byte sizes, shares.

pub use crate::model::counts::{counted, grouped};

/// Microseconds as a short millisecond figure (`0.42ms`, `12.3ms`, `1520ms`).
pub fn ms(us: u64) -> String {
    let ms = us as f64 / 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}ms")
    } else if ms < 100.0 {
        format!("{ms:.1}ms")
    } else {
        format!("{ms:.0}ms")
    }
}

/// Microseconds shown as `420µs` below a millisecond, else as [`ms`].
pub fn short_us(us: u64) -> String {
    if us < 1000 { format!("{us}µs") } else { ms(us) }
}

/// `1536` → `1.5 KiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// `part` as a share of `whole`: `25.0%`, or `-` when `whole` is zero.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "-".into() } else { format!("{:.1}%", part as f64 * 100.0 / whole as f64) }
}

/// `count` per second over `seconds`, to one decimal (0 over no time).
pub fn rate(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 { (count as f64 / seconds * 10.0).round() / 10.0 } else { 0.0 }
}

/// A rate per second as the tables show it: whole and grouped from 10/s (`12,345`), one
/// decimal below (`0.5`, which read `1`).
pub fn per_second(per_s: f64) -> String {
    if per_s < 10.0 { format!("{per_s:.1}") } else { grouped(per_s.round() as u64) }
}

/// `sum / count` to one decimal (0 when nothing was counted).
pub fn mean(sum: u64, count: u64) -> f64 {
    if count == 0 { 0.0 } else { (sum as f64 / count as f64 * 10.0).round() / 10.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_ms_and_bytes() {
        assert_eq!(ms(420), "0.42ms");
        assert_eq!(ms(12_345), "12.3ms");
        assert_eq!(ms(1_520_000), "1520ms");
        assert_eq!(short_us(420), "420µs");
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!((percent(1, 4), percent(1, 0)), ("25.0%".to_string(), "-".to_string()));
        assert_eq!((rate(3, 2.0), rate(3, 0.0), mean(10, 4), mean(1, 0)), (1.5, 0.0, 2.5, 0.0));
    }

    #[test]
    fn slow_rates_keep_a_decimal_and_fast_ones_are_grouped() {
        assert_eq!(per_second(0.5), "0.5");
        assert_eq!(per_second(9.96), "10.0");
        assert_eq!(per_second(35.2), "35");
        assert_eq!(per_second(12_345.0), "12,345");
    }
}

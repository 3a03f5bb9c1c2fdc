//! Figures of a result file that no run writes together (a hand-edited file): refused when it
//! is read, naming the field, so that `compare` never shows a share or a rate made of them, nor
//! a percentile above the max.

use super::*;

/// The first transaction whose failures are more than its attempts or its completions.
pub(super) fn check_transactions(read: &ResultFile, file: &str) -> Result<(), ResultFileError> {
    for (index, txn) in read.transactions.iter().enumerate() {
        let shape = |field: &str, why: String| ResultFileError::Shape {
            file: file.to_string(),
            at: format!("transactions[{index}].{field}: "),
            why,
        };
        // Every failed transaction is one completed (`count` = ok + errors).
        if txn.errors > txn.count {
            return Err(shape("errors", format!("more failed than completed ({} > {})", txn.errors, txn.count)));
        }
        let requests = &txn.requests;
        // Files written before `attempts` existed counted every attempt as a request.
        let attempts = requests.attempts.unwrap_or(requests.count.saturating_add(requests.not_sent));
        if requests.errors > attempts {
            let why = format!("more failed than attempted ({} > {attempts})", requests.errors);
            return Err(shape("requests.errors", why));
        }
        let latencies = [
            ("latency_us", Some(&txn.latency_us)),
            ("latency_us_corrected", txn.latency_us_corrected.as_ref()),
            ("requests.latency_us", Some(&requests.latency_us)),
            ("requests.latency_us_corrected", requests.latency_us_corrected.as_ref()),
        ];
        for (field, latency) in latencies {
            if let Some((figure, why)) = latency.and_then(out_of_order) {
                return Err(shape(&format!("{field}.{figure}"), why));
            }
        }
    }
    let totals = &read.totals;
    for (field, latency) in
        [("latency_us", Some(&totals.latency_us)), ("latency_us_corrected", totals.latency_us_corrected.as_ref())]
    {
        if let Some((figure, why)) = latency.and_then(out_of_order) {
            return Err(ResultFileError::Shape {
                file: file.to_string(),
                at: format!("totals.{field}.{figure}: "),
                why,
            });
        }
    }
    Ok(())
}

/// The first interval that ends before the one before it, or before the run's start, or whose
/// percentiles are out of order (a hand-edited file): its charts would draw a time or a
/// percentile no run measured.
pub(super) fn check_intervals(read: &ResultFile, file: &str) -> Result<(), ResultFileError> {
    let shape = |at: String, why: String| ResultFileError::Shape { file: file.to_string(), at, why };
    let mut before: Option<f64> = None;
    for (index, interval) in read.intervals.iter().enumerate() {
        let end = interval.elapsed_s;
        if end < 0.0 {
            return Err(shape(format!("intervals[{index}].elapsed_s: "), format!("{end} is before the run's start")));
        }
        if let Some(before) = before.filter(|before| end < *before) {
            let why = format!(
                "{end} is before the end of intervals[{}] ({before}): intervals follow one another in time",
                index - 1
            );
            return Err(shape(format!("intervals[{index}].elapsed_s: "), why));
        }
        before = Some(end);
        if let Some((field, why)) = interval_out_of_order(interval) {
            return Err(shape(format!("intervals[{index}].{field}: "), why));
        }
    }
    Ok(())
}

/// An interval's percentiles out of order: `(field, why)`.
fn interval_out_of_order(interval: &Interval) -> Option<(String, String)> {
    if let (Some(p50), Some(p99)) = (interval.p50_us, interval.p99_us)
        && p50 > p99
    {
        return Some((
            "p50_us".into(),
            format!("{p50} is above p99_us {p99} (the figures of one histogram are in order)"),
        ));
    }
    let detail = &interval.detail;
    let mut percentiles: Vec<(String, &Percentiles)> = Vec::new();
    percentiles.extend(detail.latency.as_ref().map(|p| ("latency".to_string(), p)));
    percentiles.extend(detail.corrected.as_ref().map(|p| ("corrected".to_string(), p)));
    for (j, txn) in detail.by_transaction.iter().enumerate() {
        percentiles.push((format!("by_transaction[{j}].latency"), &txn.latency));
        percentiles.extend(txn.corrected.as_ref().map(|p| (format!("by_transaction[{j}].corrected"), p)));
    }
    let reply = detail.websocket.as_ref().and_then(|ws| ws.reply.as_ref());
    percentiles.extend(reply.map(|p| ("websocket.reply".to_string(), p)));
    percentiles.into_iter().find_map(|(field, p)| {
        let figures = [("p50_us", p.p50_us), ("p90_us", p.p90_us), ("p99_us", p.p99_us), ("max_us", p.max_us)];
        figures.windows(2).find(|pair| pair[0].1 > pair[1].1).map(|pair| {
            let ((below, low), (above, high)) = (pair[0], pair[1]);
            (
                format!("{field}.{below}"),
                format!("{low} is above {above} {high} (the figures of one histogram are in order)"),
            )
        })
    })
}

/// The first figure of `latency` out of order with the one before it (a percentile above the
/// max, a p50 above the p99), and why; `None` when each is at most the next. A histogram's own
/// figures are always in order: every one is read from the same counts.
fn out_of_order(latency: &Latency) -> Option<(&'static str, String)> {
    let figures = [
        ("min", latency.min),
        ("p50", latency.p50),
        ("p90", latency.p90),
        ("p99", latency.p99),
        ("p999", latency.p999),
        ("max", latency.max),
    ];
    let known: Vec<(&'static str, u64)> = figures.into_iter().filter_map(|(name, us)| Some((name, us?))).collect();
    known.windows(2).find(|pair| pair[0].1 > pair[1].1).map(|pair| {
        let ((below, low), (above, high)) = (pair[0], pair[1]);
        (below, format!("{low} is above {above} {high} (the figures of one histogram are in order)"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(latency: &str) -> String {
        format!(
            r#"{{"mite_engine_version": "0", "duration_s": 1, "totals": {{}}, "transactions": [{{"name": "get",
                "count": 3, "latency_us": {latency}, "requests": {{}} }}]}}"#
        )
    }

    /// Outside try: a part whose intervals overlap its own (one spliced in from another
    /// run, ending before the one before it) was read, and its timeline drawn backwards.
    #[test]
    fn intervals_out_of_time_order_are_refused() {
        let with = |ends: &[f64]| {
            let intervals: Vec<String> =
                ends.iter().map(|end| format!(r#"{{"elapsed_s": {end}, "requests": 1, "transactions": 1}}"#)).collect();
            let text = format!(
                r#"{{"mite_engine_version": "0", "duration_s": 3, "totals": {{}}, "transactions": [], "intervals": [{}]}}"#,
                intervals.join(",")
            );
            ResultFile::read(&text, "a.json").map(|_| ()).map_err(|e| e.to_string())
        };
        assert_eq!(with(&[1.0, 2.0, 2.0, 3.0]), Ok(()), "two ends in one millisecond are in order");
        assert_eq!(
            with(&[1.0, 2.0, 1.5, 3.0]),
            Err("a.json is not a mite-engine result: intervals[2].elapsed_s: 1.5 is before the end of intervals[1] \
                 (2): intervals follow one another in time"
                .to_string())
        );
    }

    /// Outside try: a file with a p99 above its max (hand-edited) was read, and `compare` showed
    /// it. Figures of one histogram out of order are refused, naming the field.
    /// Outside try: an interval's percentiles edited out of order, or its end before the run's
    /// start, were read, merged and drawn. Refused, naming the file and the field.
    #[test]
    fn an_intervals_figures_out_of_order_are_refused() {
        let with = |interval: &str| {
            let text = format!(
                r#"{{"mite_engine_version": "0", "duration_s": 3, "totals": {{}}, "transactions": [],
                    "intervals": [{{"elapsed_s": 1, "requests": 1}}, {interval}]}}"#
            );
            ResultFile::read(&text, "a.json").map(|_| ()).map_err(|e| e.to_string())
        };
        let ordered = r#"{"p50_us": 5, "p90_us": 9, "p99_us": 30, "max_us": 30}"#;
        let interval = |latency: &str, txn: &str| {
            format!(
                r#"{{"elapsed_s": 2, "p50_us": 5, "p99_us": 30, "latency": {latency},
                    "by_transaction": [{{"name": "get", "count": 1, "latency": {txn}}}]}}"#
            )
        };
        assert_eq!(with(&interval(ordered, ordered)), Ok(()));
        let p = "a.json is not a mite-engine result: intervals[1].";
        assert_eq!(
            with(&interval(&ordered.replace("\"p90_us\": 9", "\"p90_us\": 99"), ordered)),
            Err(format!("{p}latency.p90_us: 99 is above p99_us 30 (the figures of one histogram are in order)"))
        );
        assert_eq!(
            with(&interval(ordered, &ordered.replace("\"max_us\": 30", "\"max_us\": 3"))),
            Err(format!(
                "{p}by_transaction[0].latency.p99_us: 30 is above max_us 3 (the figures of one histogram are in order)"
            ))
        );
        let reply = r#"{"elapsed_s": 2, "websocket": {"messages_sent": 3, "reply": {"p50_us": 5, "p90_us": 9, "p99_us": 3, "max_us": 30}}}"#;
        assert_eq!(
            with(reply),
            Err(format!("{p}websocket.reply.p90_us: 9 is above p99_us 3 (the figures of one histogram are in order)"))
        );
        assert_eq!(
            with(r#"{"elapsed_s": 2, "p50_us": 50, "p99_us": 30}"#),
            Err(format!("{p}p50_us: 50 is above p99_us 30 (the figures of one histogram are in order)"))
        );
        let text = r#"{"mite_engine_version": "0", "duration_s": 3, "totals": {}, "transactions": [],
                       "intervals": [{"elapsed_s": -3, "requests": 1}]}"#;
        assert_eq!(
            ResultFile::read(text, "a.json").map(|_| ()).map_err(|e| e.to_string()),
            Err("a.json is not a mite-engine result: intervals[0].elapsed_s: -3 is before the run's start".into())
        );
    }

    #[test]
    fn a_percentile_above_the_max_is_refused() {
        let ordered = r#"{"count": 3, "min": 5, "p50": 9, "p90": 9, "p99": 30, "p999": 30, "max": 30}"#;
        assert!(ResultFile::read(&file_with(ordered), "a.json").is_ok());
        let err = ResultFile::read(&file_with(&ordered.replace(r#""p99": 30"#, r#""p99": 99999"#)), "a.json");
        assert_eq!(
            err.unwrap_err().to_string(),
            "a.json is not a mite-engine result: transactions[0].latency_us.p99: 99999 is above p999 30 (the figures \
             of one histogram are in order)"
        );
        let err = ResultFile::read(&file_with(&ordered.replace(r#""min": 5"#, r#""min": 10"#)), "a.json");
        assert!(err.unwrap_err().to_string().contains("transactions[0].latency_us.min: 10 is above p50 9"));
        // A figure left out (a file made by hand) is not compared.
        assert!(ResultFile::read(&file_with(r#"{"count": 3, "p99": 30, "max": 40}"#), "a.json").is_ok());
    }
}

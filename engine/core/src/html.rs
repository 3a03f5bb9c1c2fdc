//! The self-contained HTML report (`--html FILE`): summary, req/s and p50/p99 over time, and the
//! latency percentile distribution per transaction, drawn as inline SVG (no network fetches).

use std::fmt::Write as _;

use crate::report::{grouped, ms};
use crate::run::RunResult;

const COLORS: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const WIDTH: f64 = 860.0;
const HEIGHT: f64 = 300.0;
const PAD_LEFT: f64 = 70.0;
const PAD_BOTTOM: f64 = 40.0;
const PAD_TOP: f64 = 30.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A line chart. `x_ticks` label the x axis; y starts at 0.
fn chart(title: &str, y_label: &str, series: &[(String, Vec<(f64, f64)>)], x_ticks: &[(f64, String)]) -> String {
    let x_max = series.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x)).fold(0.0, f64::max).max(1e-9);
    let y_max = series.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y)).fold(0.0, f64::max).max(1e-9) * 1.05;
    let plot_w = WIDTH - PAD_LEFT - 20.0;
    let plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM;
    let sx = |x: f64| PAD_LEFT + x / x_max * plot_w;
    let sy = |y: f64| PAD_TOP + plot_h - y / y_max * plot_h;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" font-family=\"sans-serif\" font-size=\"11\">\
         <text x=\"{PAD_LEFT}\" y=\"18\" font-size=\"14\" font-weight=\"bold\">{}</text>",
        escape(title)
    );
    for i in 0..=4 {
        let y = y_max * f64::from(i) / 4.0;
        let _ = write!(
            svg,
            "<line x1=\"{PAD_LEFT}\" x2=\"{}\" y1=\"{py}\" y2=\"{py}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            WIDTH - 20.0,
            PAD_LEFT - 6.0,
            sy(y) + 4.0,
            if y_max >= 100.0 { format!("{y:.0}") } else { format!("{y:.2}") },
            py = sy(y)
        );
    }
    for (x, text) in x_ticks {
        let _ = write!(
            svg,
            "<line x1=\"{px}\" x2=\"{px}\" y1=\"{PAD_TOP}\" y2=\"{}\" stroke=\"#eee\"/><text x=\"{px}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            PAD_TOP + plot_h,
            HEIGHT - PAD_BOTTOM + 16.0,
            escape(text),
            px = sx(*x)
        );
    }
    let _ = write!(
        svg,
        "<text transform=\"translate(14,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        PAD_TOP + plot_h / 2.0,
        escape(y_label)
    );
    for (i, (name, points)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> = points.iter().map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y))).collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.8\" points=\"{}\"/>",
            path.join(" ")
        );
        // Legend: four entries a row, rows stacked upwards from the bottom edge.
        let legend_x = PAD_LEFT + 10.0 + 200.0 * (i % 4) as f64;
        let legend_y = HEIGHT - 16.0 - 14.0 * (i / 4) as f64;
        let _ = write!(
            svg,
            "<rect x=\"{legend_x}\" y=\"{legend_y}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            legend_x + 14.0,
            legend_y + 7.0,
            escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Percentiles plotted on the usual HDR axis: x = log10(1 / (1 - q)), so 90, 99, 99.9 ... are
/// evenly spaced.
fn percentile_x(q: f64) -> f64 {
    (1.0 / (1.0 - q).max(1e-6)).log10()
}

/// Renders the whole report.
pub fn render(result: &RunResult) -> String {
    let mut body = String::new();
    let total = result.merged.total();
    let _ = write!(
        body,
        "<h1>mite-engine: {}</h1><p>{} on cores {:?} ({}), {:.2} s, stopped by {}; {} requests ({} errors), {} req/s</p>",
        escape(&result.scenario),
        result.segment.as_deref().map(|s| format!("segment {s}")).unwrap_or_else(|| "single injector".into()),
        result.cores,
        result.driver_name(),
        result.duration_s,
        result.stopped_by.name(),
        grouped(total.requests()),
        grouped(total.req_errors()),
        grouped((total.requests() as f64 / result.duration_s.max(1e-9)).round() as u64)
    );
    body.push_str("<pre>");
    body.push_str(&escape(&crate::report::table(&result.merged, result.duration_s)));
    body.push_str("</pre>");
    let times: Vec<(f64, String)> = {
        let end = result.intervals.last().map_or(1.0, |p| p.elapsed_s);
        (0..=5).map(|i| end * f64::from(i) / 5.0).map(|t| (t, format!("{t:.0}s"))).collect()
    };
    let rps: Vec<(f64, f64)> = result.intervals.iter().map(|p| (p.elapsed_s, p.rps)).collect();
    body.push_str(&chart("Requests per second", "req/s", &[("req/s".into(), rps)], &times));
    let p50: Vec<(f64, f64)> = result.intervals.iter().map(|p| (p.elapsed_s, p.p50_us as f64 / 1000.0)).collect();
    let p99: Vec<(f64, f64)> = result.intervals.iter().map(|p| (p.elapsed_s, p.p99_us as f64 / 1000.0)).collect();
    body.push_str(&chart("Latency over time", "ms", &[("p50".into(), p50), ("p99".into(), p99)], &times));
    let quantiles: Vec<f64> = (0..=60).map(|i| 1.0 - 10f64.powf(-f64::from(i) / 12.0)).collect();
    let mut series = Vec::new();
    for (name, stats) in &result.merged.txns {
        for (label, h) in [(name.to_string(), &stats.txn_us), (format!("{name} (corrected)"), &stats.txn_us_corrected)]
        {
            if h.is_empty() {
                continue;
            }
            let points = quantiles.iter().map(|&q| (percentile_x(q), h.value_at_quantile(q) as f64 / 1000.0)).collect();
            series.push((label, points));
        }
    }
    let ticks: Vec<(f64, String)> = [0.0, 0.9, 0.99, 0.999, 0.9999, 0.99999]
        .iter()
        .map(|&q| (percentile_x(q), format!("{}%", q * 100.0)))
        .collect();
    body.push_str(&chart("Latency by percentile (transaction durations)", "ms", &series, &ticks));
    let _ = write!(body, "<p>p99 over the run: {}</p>", ms(total.req_us.value_at_quantile(0.99)));
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>mite-engine {}</title>\
         <style>body{{font-family:sans-serif;margin:24px;color:#222}}pre{{background:#f6f6f6;padding:12px;overflow:auto}}svg{{display:block;margin:16px 0}}</style>\
         </head><body>{body}</body></html>\n",
        escape(&result.scenario)
    )
}

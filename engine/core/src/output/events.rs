//! What a run tells its user while it goes. The library never prints: a run sends each
//! [`RunEvent`] to the [`Reporter`] its caller gives (the CLI writes them out, tests drop them),
//! and an event's `Display` is the line a terminal shows.

use std::fmt;
use std::time::Duration;

use crate::model::datapool::Row;
use crate::model::terminal::traced_value;
use crate::output::outcome::IntervalPoint;
use crate::output::report::{printable, printable_composed, printable_lines};
use crate::output::units::{counted, grouped, ms, per_second, rate, short_us};

/// Where a run's events go: `&mut |event| eprintln!("{event}")`, or `&mut |_| {}` to drop them.
pub type Reporter<'a> = dyn FnMut(&RunEvent<'_>) + 'a;

/// One thing a run (or `journey test`) has to say.
#[derive(Clone, Copy)]
pub enum RunEvent<'a> {
    /// Something to know before trusting the run (a volume the cores cannot split evenly,
    /// certificates not verified). Shown as `WARNING: ...`.
    Warning(&'a str),
    /// A core (`None`: the one `journey test` runs on) could not use io_uring, and why.
    DriverFallback {
        /// The core id.
        core: Option<usize>,
        /// Why, as the runtime said it.
        reason: &'a str,
    },
    /// Waiting this long for the synchronised start.
    WaitingForStart(Duration),
    /// The synchronised start time had passed already, this long ago: starting now, that late.
    StartTimePassed(Duration),
    /// Every core is running.
    Started {
        /// Core ids.
        cores: &'a [usize],
        /// The drivers in use, `+`-joined when cores differ.
        drivers: &'a str,
        /// The longest the run may take.
        duration: Duration,
    },
    /// One interval is complete (the progress line).
    Interval(&'a Progress<'a>),
    /// A core has not reported for `silent_s` seconds, past when its report was due: its
    /// thread is held (by the kernel, or a journey that blocks it). The intervals it has not
    /// reported wait for it; said once per silence.
    CoreSilent {
        /// The core id.
        core: usize,
        /// Seconds since its last report (or the start).
        silent_s: f64,
        /// `Some(s)`: the run's length and grace ended `s` seconds ago and the core has not
        /// stopped; `None`: an interval's end passed without its report.
        past_grace_s: Option<f64>,
    },
    /// `journey test`: one journey starts with these arguments.
    JourneyStarted {
        /// Journey name.
        journey: &'a str,
        /// Which row of the datapool it runs with, from 1 (`None`: no datapool).
        row: Option<usize>,
        /// That row's values (shown under their column names when the row has them).
        args: &'a Row,
    },
    /// `journey test`: the journey ended after `took`, failed when `error` is set.
    JourneyEnded {
        /// How long it ran.
        took: Duration,
        /// Why it failed.
        error: Option<&'a dyn fmt::Display>,
    },
    /// `journey test`: an interrupt cancelled the journey in flight after `took`.
    JourneyInterrupted {
        /// How long it had run.
        took: Duration,
    },
    /// Writing the `--hdr-log` failed mid-run (a full disk): the log stops there, cut back to
    /// its last whole interval; the run goes on and its results are written. A caller that
    /// gates on the log treats the run as failed.
    HdrLogFailed(&'a crate::output::hdr_log::LogCut),
    /// `journey test`: one line of the trace (a transaction, a request, a message), nested
    /// `depth` transactions deep.
    Trace {
        /// Nesting depth.
        depth: usize,
        /// The line.
        line: &'a str,
    },
}

/// The figures of one progress line.
#[derive(Clone, Copy, Debug)]
pub struct Progress<'a> {
    /// The interval, merged across cores.
    pub point: &'a IntervalPoint,
    /// Journeys the volume models asked for, all cores.
    pub target: u64,
    /// The interval's length, s.
    pub seconds: f64,
    /// What part of the run the line describes: a whole interval, a piece cut short, or the
    /// grace after the stop.
    pub piece: Piece,
    /// Cores whose figures in this line reach back before the line before it (they reported
    /// late: a report cannot be split by time), so its rates are over `seconds`, longer than
    /// the gap between the two lines' times.
    pub late: &'a [usize],
}

/// What part of the run a progress line describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    /// A whole interval: rates over its length.
    Whole,
    /// An interval cut short (see [`Progress::is_partial`]): shown with its length and counts,
    /// since a rate over a few milliseconds says nothing.
    Partial(Cut),
    /// A piece of the grace after the stop (journeys in flight finishing, none starting),
    /// with counts; `last`: the grace's end, the run's last line.
    Grace {
        /// The grace ended with this piece.
        last: bool,
        /// The grace's time spent at the piece's end, from the stop.
        spent: Duration,
        /// The grace's length (`--grace`): what is left of it counts down to 0.
        length: Duration,
    },
}

impl Piece {
    /// The part of the run this piece belongs to, as the result file names it.
    pub fn phase(self) -> crate::output::outcome::IntervalPhase {
        use crate::output::outcome::IntervalPhase;
        match self {
            Piece::Whole => IntervalPhase::Run,
            Piece::Partial(_) => IntervalPhase::Stop,
            Piece::Grace { .. } => IntervalPhase::Grace,
        }
    }
}

/// What cut a partial interval short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// The end of the run (no journey was in flight at the stop: no grace to report).
    End,
    /// The run's stop (the duration, the volume model's end, an interrupt); the grace follows.
    Stop,
    /// One core's stop while others go on.
    CoreStop,
}

impl Progress<'_> {
    /// Whether an interval `seconds` long that ends with a core's stop (`ends_a_core`: the
    /// run's last interval, or one core's stop before others) is partial: shorter than the
    /// tick (beyond the few percent a tick's timer may be late by).
    pub fn is_partial(seconds: f64, tick: Duration, ends_a_core: bool) -> bool {
        ends_a_core && seconds < tick.as_secs_f64() * PARTIAL_SHARE_MAX
    }
}

/// A last interval shorter than this share of the tick is shown as partial.
const PARTIAL_SHARE_MAX: f64 = 0.95;

impl fmt::Display for RunEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            // Names from a scenario file and words from a server are shown, never obeyed by the
            // terminal (`report::printable`).
            RunEvent::Warning(text) => write!(f, "WARNING: {}", printable_lines(text)),
            RunEvent::DriverFallback { core: Some(core), reason } => {
                write!(f, "core {core}: {}", printable_lines(reason))
            }
            RunEvent::DriverFallback { core: None, reason } => f.write_str(&printable_lines(reason)),
            RunEvent::WaitingForStart(wait) => {
                write!(f, "waiting {:.1}s for the synchronised start", wait.as_secs_f64())
            }
            RunEvent::StartTimePassed(late) => write!(
                f,
                "WARNING: the start time (--start-at) passed {:.1}s ago: starting now, {:.1}s late (segments that \
                 started on time ran that long without this one)",
                late.as_secs_f64(),
                late.as_secs_f64()
            ),
            RunEvent::Started { cores, drivers, duration } => {
                // Tenths of a second, or the exact duration when shorter (1ms was "0.0s").
                let length = if duration < std::time::Duration::from_millis(100) {
                    crate::scenario::duration::words(duration)
                } else {
                    format!("{:.1}s", duration.as_secs_f64())
                };
                write!(f, "running on cores {cores:?} with {drivers} for up to {length}")
            }
            RunEvent::Interval(progress) => progress.fmt(f),
            RunEvent::CoreSilent { core, silent_s, past_grace_s: None } => write!(
                f,
                "core {core} has not reported for {silent_s:.1}s: its thread is held (busy in the kernel, or a \
                 journey that blocks it); the progress waits for its figures"
            ),
            RunEvent::CoreSilent { core, silent_s, past_grace_s: Some(past_s) } => write!(
                f,
                "core {core} has not stopped {past_s:.1}s after the grace ended (its last report {silent_s:.1}s ago): \
                 its thread is held (busy in the kernel, or a journey that blocks it); the run waits for its figures"
            ),
            RunEvent::HdrLogFailed(err) => write!(
                f,
                "ERROR: --hdr-log: {err}; the interval log stops here, the run goes on and its results are written"
            ),
            RunEvent::JourneyStarted { journey, row: None, args } if args.is_empty() => {
                write!(f, "journey {}", printable(journey))
            }
            RunEvent::JourneyStarted { journey, row, args } => {
                let row = row.map(|n| format!(" row {n}")).unwrap_or_default();
                // Each value quoted and escaped already (traced_value).
                let values = RowValues(args).to_string();
                write!(f, "journey {}{row}:{}", printable(journey), printable_composed(&values))
            }
            RunEvent::JourneyEnded { took, error: None } => {
                write!(f, "journey ok in {:.2} ms", took.as_secs_f64() * 1e3)
            }
            RunEvent::JourneyEnded { took, error: Some(err) } => {
                write!(f, "journey FAILED in {:.2} ms: {}", took.as_secs_f64() * 1e3, printable(&err.to_string()))
            }
            RunEvent::JourneyInterrupted { took } => {
                write!(f, "journey CANCELLED by the interrupt after {:.2} ms", took.as_secs_f64() * 1e3)
            }
            // A trace line quotes its values escaped already (`capture t = "a\nb"`).
            RunEvent::Trace { depth, line } => {
                write!(f, "{:indent$}{}", "", printable_composed(line), indent = depth * 2)
            }
        }
    }
}

impl fmt::Debug for RunEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RunEvent({self})")
    }
}

impl fmt::Display for Progress<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let point = self.point;
        // attempts = requests + not_sent = ok + errors; `err` counts every failed attempt, as
        // `errors` does in the result file, and those never sent are also shown apart.
        let ok = (point.requests + point.not_sent).saturating_sub(point.errors);
        self.write_stamp_and_counts(f, ok)?;
        // Every latency recorded is at least 1 µs: 0 is an interval with none to show.
        let latency = |us: u64| if us == 0 { "-".to_string() } else { ms(us) };
        write!(f, "  p50 {:>8}  p99 {:>8}", latency(point.p50_us), latency(point.p99_us))?;
        // The grace's line says its journeys in flight first; nothing starts in it, so there
        // is no target to set them against.
        if !matches!(self.piece, Piece::Grace { .. }) {
            write!(f, "  in flight {} of {}", point.journeys_in_flight, self.target)?;
        }
        // Failures before a byte was written are not requests: shown apart, not in req/s.
        if point.not_sent > 0 {
            write!(f, "  not sent {}", grouped(point.not_sent))?;
        }
        // WebSocket messages each way apart (a sum reads as either), as the table's columns.
        if let Some(ws) = &point.detail.ws {
            match self.piece {
                Piece::Whole => {
                    let per_s = |n: u64| per_second(rate(n, self.seconds));
                    write!(f, "  ws msgs sent {}/s recv {}/s", per_s(ws.messages_sent), per_s(ws.messages_received))?;
                }
                _ => write!(f, "  ws msgs sent {} recv {}", grouped(ws.messages_sent), grouped(ws.messages_received))?,
            }
        }
        // A lag of 0 was not measured (the piece ended before the first probe).
        let lag = if point.lag_p99_us == 0 { "-".to_string() } else { short_us(point.lag_p99_us) };
        write!(f, "  lag {lag} cpu {:.0}%", point.busy_percent_max)?;
        if point.saturated {
            f.write_str("  INJECTOR SATURATED")?;
        }
        // A journey's panic ends that run only: the run goes on, and says so in every line.
        if point.detail.journeys.panicked > 0 {
            write!(f, "  JOURNEYS PANICKED {}", grouped(point.detail.journeys.panicked))?;
        }
        if !self.late.is_empty() {
            let cores: Vec<String> = self.late.iter().map(usize::to_string).collect();
            let since_s = (point.elapsed_s - self.seconds).max(0.0);
            write!(f, "  (late report from core {}: figures since {since_s:.1}s)", cores.join(", "))?;
        }
        Ok(())
    }
}

impl Progress<'_> {
    /// The line's stamp and what it describes: rates over a whole interval; counts over a
    /// piece of one, or of the grace, since a rate over a few milliseconds says nothing.
    fn write_stamp_and_counts(&self, f: &mut fmt::Formatter<'_>, ok: u64) -> fmt::Result {
        let point = self.point;
        let span = if self.seconds < 1.0 { ms((self.seconds * 1e6) as u64) } else { format!("{:.2}s", self.seconds) };
        let counts = format!("ok {}  err {}  {} txn", grouped(ok), grouped(point.errors), grouped(point.transactions));
        match self.piece {
            Piece::Whole => {
                let per_s = |n: u64| grouped((n as f64 / self.seconds).round() as u64);
                write!(
                    f,
                    "[{:>7.1}s] ok {:>9}/s  err {:>7}/s  {:>8} txn",
                    point.elapsed_s,
                    per_s(ok),
                    per_s(point.errors),
                    grouped(point.transactions),
                )
            }
            Piece::Partial(cut) => {
                let to = match cut {
                    Cut::End => "the end",
                    Cut::Stop => "the stop",
                    Cut::CoreStop => "a core's stop",
                };
                write!(f, "[{:>7.2}s] partial {span} to {to}: {counts}", point.elapsed_s)
            }
            Piece::Grace { last, spent, length } => {
                write!(f, "[{:>7.2}s] grace: ", point.elapsed_s)?;
                let journeys = &point.detail.journeys;
                let in_flight = |n: u64| counted(n, "journey") + " in flight";
                match (last, journeys.cancelled) {
                    // What is left of it, counting down, and the journeys it still waits for.
                    (false, _) => write!(
                        f,
                        "{:.2}s left, {}",
                        length.saturating_sub(spent).as_secs_f64(),
                        in_flight(point.journeys_in_flight)
                    )?,
                    (true, 0) => write!(f, "over after {:.2}s, every journey ended", spent.as_secs_f64())?,
                    (true, cancelled) => write!(
                        f,
                        "over after {:.2}s, {} cancelled",
                        spent.as_secs_f64(),
                        counted(cancelled, "journey")
                    )?,
                }
                write!(f, "; in {span}: {counts}")?;
                if journeys.cancelled > 0 && !last {
                    write!(f, "  cancelled {}", grouped(journeys.cancelled))?;
                }
                Ok(())
            }
        }
    }
}

/// A datapool row's values, each after a space, quoted, under its column's name when the row
/// has one (`id="1" name="Mary Ann"`), each as [`traced_value`] shows it.
struct RowValues<'a>(&'a Row);

impl fmt::Display for RowValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns = self.0.columns().unwrap_or_default();
        for (i, value) in (0..self.0.len()).filter_map(|i| Some((i, self.0.get(i)?))) {
            let value = traced_value(value);
            match columns.get(i) {
                Some(column) => write!(f, " {column}={value}")?,
                None => write!(f, " {value}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::TRACE_VALUE_COLUMNS_MAX;

    fn line(point: &IntervalPoint, target: u64, seconds: f64) -> String {
        Progress { point, target, seconds, piece: Piece::Whole, late: &[] }.to_string()
    }

    /// Issue 11: during an outage the progress line showed tens of thousands of "req/s" that
    /// no server saw; attempts that were never sent are now shown apart.
    #[test]
    fn progress_line_shows_attempts_not_sent_apart() {
        let point = IntervalPoint {
            elapsed_s: 1.0,
            requests: 10,
            errors: 6_004,
            not_sent: 6_000,
            transactions: 6_010,
            journeys_in_flight: 2,
            ..IntervalPoint::default()
        };
        // Before, `ok` was `requests - errors`: an overflow when attempts were not sent.
        let text = line(&point, 2, 1.0);
        // `err` counts every failed attempt, as `errors` does in the result file.
        assert!(text.contains("ok         6/s") && text.contains("err   6,004/s"), "{text}");
        assert!(text.contains("in flight 2 of 2  not sent 6,000"), "{text}");
        let quiet = line(&IntervalPoint { not_sent: 0, errors: 4, ..point }, 2, 1.0);
        assert!(!quiet.contains("not sent"), "{quiet}");
    }

    /// An interval in which journeys panicked says how many (the run goes on; the exit code
    /// will say it too); one with none says nothing of it.
    #[test]
    fn progress_line_counts_the_journeys_that_panicked() {
        let mut point = IntervalPoint { elapsed_s: 1.0, transactions: 4, ..IntervalPoint::default() };
        assert!(!line(&point, 2, 1.0).contains("PANICKED"));
        point.detail.journeys.panicked = 1_200;
        let text = line(&point, 2, 1.0);
        assert!(text.ends_with("  JOURNEYS PANICKED 1,200"), "{text}");
    }

    /// Issue 16: an interval whose only failures were never sent (a refused port) has more
    /// errors than requests; the progress line must say so, not underflow.
    /// A held core is named, in the user's words: silent during the run, or not stopped after
    /// the grace; and a line holding a late core's figures says since when they run.
    #[test]
    fn a_held_core_is_named() {
        let during = RunEvent::CoreSilent { core: 3, silent_s: 2.25, past_grace_s: None }.to_string();
        assert!(
            during.starts_with("core 3 has not reported for 2.2s: its thread is held (busy in the kernel"),
            "{during}"
        );
        let after = RunEvent::CoreSilent { core: 0, silent_s: 4.0, past_grace_s: Some(2.0) }.to_string();
        assert!(
            after.starts_with("core 0 has not stopped 2.0s after the grace ended (its last report 4.0s ago)"),
            "{after}"
        );
        let point = IntervalPoint { elapsed_s: 3.8, transactions: 38, ..IntervalPoint::default() };
        let late = Progress { point: &point, target: 0, seconds: 3.8, piece: Piece::Whole, late: &[0] };
        let text = late.to_string();
        assert!(text.starts_with("[    3.8s] ok         0/s  err       0/s        38 txn"), "{text}");
        assert!(text.ends_with("  (late report from core 0: figures since 0.0s)"), "{text}");
    }

    /// Outside try: WebSocket messages a second read as a sum of both ways (the table's one
    /// `msg/s`); the progress line shows them each way apart, rates over a whole interval and
    /// counts over a piece, and nothing of them for an interval without WebSockets.
    #[test]
    fn progress_line_shows_websocket_messages_each_way() {
        let mut point = IntervalPoint { elapsed_s: 2.0, transactions: 4, ..IntervalPoint::default() };
        assert!(!line(&point, 2, 1.0).contains("ws "), "no WebSockets, nothing of them");
        let ws =
            crate::output::timeline::WsPoint { messages_sent: 2_400, messages_received: 2_200, ..Default::default() };
        point.detail.ws = Some(ws);
        let text = line(&point, 2, 2.0);
        assert!(text.contains("in flight 0 of 2  ws msgs sent 1,200/s recv 1,100/s  lag"), "{text}");
        let piece = Progress { point: &point, target: 2, seconds: 0.2, piece: Piece::Partial(Cut::End), late: &[] };
        assert!(piece.to_string().contains("  ws msgs sent 2,400 recv 2,200  lag"), "{piece}");
    }

    /// Outside try: a run of 1 ms printed `p50 0.00ms  p99 0.00ms ... lag 0µs`, figures that
    /// look measured, for an interval with no latency and no lag probe in it.
    #[test]
    fn an_interval_with_nothing_measured_shows_no_figures() {
        let point = IntervalPoint { elapsed_s: 0.006, busy_percent_max: 11.0, ..IntervalPoint::default() };
        let text = Progress { point: &point, target: 0, seconds: 0.006, piece: Piece::Partial(Cut::End), late: &[] }
            .to_string();
        assert!(text.ends_with("p50        -  p99        -  in flight 0 of 0  lag - cpu 11%"), "{text}");
        let measured = IntervalPoint { p50_us: 240, p99_us: 390, lag_p99_us: 43, ..point };
        let text = line(&measured, 2, 1.0);
        assert!(text.contains("p50   0.24ms  p99   0.39ms") && text.contains("lag 43µs"), "{text}");
    }

    #[test]
    fn progress_line_with_failures_that_were_never_sent() {
        let point = IntervalPoint {
            elapsed_s: 1.0,
            requests: 0,
            errors: 5,
            not_sent: 5,
            transactions: 5,
            journeys_in_flight: 2,
            ..IntervalPoint::default()
        };
        let text = line(&point, 4, 1.0);
        assert!(text.contains("ok         0/s") && text.contains("err       5/s"), "{text}");
        assert!(text.contains("in flight 2 of 4") && text.contains("not sent 5"), "{text}");
        let sent = IntervalPoint { requests: 10, errors: 3, not_sent: 1, ..point };
        let text = line(&sent, 4, 2.0);
        assert!(text.contains("ok         4/s") && text.contains("err       2/s"), "{text}");
    }

    /// The run's last interval, cut short by the stop, was folded into the one before and
    /// that one printed again: two `[3.0s]` lines, the second counting the interval before
    /// twice. It is now a line of its own, saying what it is, with counts rather than rates.
    #[test]
    fn a_partial_last_interval_says_so_with_counts() {
        let point = IntervalPoint {
            elapsed_s: 3.0123,
            requests: 7,
            errors: 1,
            transactions: 7,
            p50_us: 1_500,
            ..IntervalPoint::default()
        };
        let text = Progress { point: &point, target: 0, seconds: 0.0123, piece: Piece::Partial(Cut::End), late: &[] }
            .to_string();
        assert!(text.starts_with("[   3.01s] partial 12.3ms to the end: ok 6  err 1  7 txn  p50   1.50ms"), "{text}");
        assert!(!text.contains("/s"), "no rate over a few milliseconds: {text}");
        let long =
            Progress { point: &point, target: 0, seconds: 1.5, piece: Piece::Partial(Cut::End), late: &[] }.to_string();
        assert!(long.contains("partial 1.50s to the end"), "{long}");
        let tick = Duration::from_secs(1);
        assert!(Progress::is_partial(0.2, tick, true) && !Progress::is_partial(0.2, tick, false));
        assert!(!Progress::is_partial(0.99, tick, true), "a tick's timer a little late is not a partial interval");
        assert!(!Progress::is_partial(1.3, tick, true), "the last tick plus the grace is whole");
    }

    /// Outside tester: the stop at 1.5 s with 50 journeys in flight printed one `[2.5s]` line
    /// over 1.0 to 2.5 s, rates and all, and nothing during the grace. The piece up to the stop
    /// and each piece of the grace now say what they are, with counts.
    #[test]
    fn the_stop_and_the_grace_say_what_they_are() {
        let at_stop = IntervalPoint { elapsed_s: 1.5, journeys_in_flight: 50, ..IntervalPoint::default() };
        let stop = Progress { point: &at_stop, target: 50, seconds: 0.5, piece: Piece::Partial(Cut::Stop), late: &[] };
        let text = stop.to_string();
        assert!(text.starts_with("[   1.50s] partial 500ms to the stop: ok 0  err 0  0 txn"), "{text}");
        assert!(text.contains("in flight 50 of 50"), "{text}");
        let mut point =
            IntervalPoint { elapsed_s: 2.0, requests: 12, transactions: 12, journeys_in_flight: 38, ..at_stop.clone() };
        point.detail.journeys.ok = 12;
        let grace = |last, spent_ms| Piece::Grace {
            last,
            spent: Duration::from_millis(spent_ms),
            length: Duration::from_millis(1_000),
        };
        let text = Progress { point: &point, target: 0, seconds: 0.5, piece: grace(false, 400), late: &[] }.to_string();
        // Outside try: `grace 500ms` read as a duration left or spent without saying which.
        assert!(
            text.starts_with(
                "[   2.00s] grace: 0.60s left, 38 journeys in flight; in 500ms: ok 12  err 0  12 txn  p50"
            ),
            "{text}"
        );
        assert!(text.contains("p99        -  lag") && !text.contains("/s"), "no target, no rates: {text}");
        let later = Progress { point: &point, target: 0, seconds: 0.5, piece: grace(false, 900), late: &[] };
        assert!(later.to_string().starts_with("[   2.00s] grace: 0.10s left,"), "it counts down: {later}");
        let past = Progress { point: &point, target: 0, seconds: 0.5, piece: grace(false, 1_200), late: &[] };
        assert!(past.to_string().starts_with("[   2.00s] grace: 0.00s left,"), "never below 0: {past}");
        let mut end = IntervalPoint { elapsed_s: 2.5, requests: 38, errors: 38, transactions: 0, ..at_stop.clone() };
        end.journeys_in_flight = 0;
        end.detail.journeys.cancelled = 38;
        let last = Progress { point: &end, target: 0, seconds: 0.5, piece: grace(true, 1_000), late: &[] };
        let text = last.to_string();
        assert!(
            text.starts_with(
                "[   2.50s] grace: over after 1.00s, 38 journeys cancelled; in 500ms: ok 0  err 38  0 txn  p50"
            ),
            "{text}"
        );
        assert!(!text.contains("cancelled 38"), "said once: {text}");
        end.detail.journeys = Default::default();
        end.detail.journeys.ok = 1;
        let early = Progress { point: &end, target: 0, seconds: 0.1, piece: grace(true, 100), late: &[] };
        assert!(early.to_string().starts_with("[   2.50s] grace: over after 0.10s, every journey ended; in 100ms:"));
        let cut = |piece| Progress { point: &at_stop, target: 0, seconds: 0.5, piece, late: &[] }.to_string();
        assert!(cut(Piece::Partial(Cut::CoreStop)).contains("partial 500ms to a core's stop:"));
    }

    #[test]
    fn events_read_as_the_lines_a_terminal_shows() {
        let point = IntervalPoint { elapsed_s: 2.5, saturated: true, lag_p99_us: 420, ..IntervalPoint::default() };
        let progress = Progress { point: &point, target: 1, seconds: 1.0, piece: Piece::Whole, late: &[] };
        let text = RunEvent::Interval(&progress).to_string();
        assert!(text.starts_with("[    2.5s] ok         0/s"), "{text}");
        assert!(text.ends_with("lag 420µs cpu 0%  INJECTOR SATURATED"), "{text}");
        assert_eq!(RunEvent::Warning("x").to_string(), "WARNING: x");
        assert_eq!(RunEvent::DriverFallback { core: Some(3), reason: "no ring" }.to_string(), "core 3: no ring");
        let started = RunEvent::Started { cores: &[0, 1], drivers: "epoll", duration: Duration::from_secs(2) };
        assert_eq!(started.to_string(), "running on cores [0, 1] with epoll for up to 2.0s");
        let late = RunEvent::StartTimePassed(Duration::from_millis(12_340)).to_string();
        assert!(
            late.starts_with("WARNING: the start time (--start-at) passed 12.3s ago: starting now, 12.3s late"),
            "{late}"
        );
        let short = RunEvent::Started { cores: &[0], drivers: "epoll", duration: Duration::from_millis(1) };
        assert_eq!(short.to_string(), "running on cores [0] with epoll for up to 1ms");
        assert_eq!(RunEvent::Trace { depth: 2, line: "GET /" }.to_string(), "    GET /");
        let err: &dyn fmt::Display = &"boom";
        let ended = RunEvent::JourneyEnded { took: Duration::from_millis(3), error: Some(err) };
        assert_eq!(ended.to_string(), "journey FAILED in 3.00 ms: boom");
    }

    /// Outside try: `journey test`'s trace and a failed journey's error printed a server's
    /// words raw (a reason phrase, a header value in an error's detail), as did a warning
    /// naming an entry: an escape sequence recoloured the terminal, a line break forged a line.
    #[test]
    fn text_from_servers_and_files_is_shown_not_obeyed() {
        let trace = RunEvent::Trace { depth: 1, line: "<- 200 \u{1b}[32mOK\r\n<- 500" }.to_string();
        assert_eq!(trace, "  <- 200 \\u{1b}[32mOK\\r\\n<- 500");
        let err: &dyn fmt::Display = &"redirect to \u{202e}moc.evil\u{9b}2J";
        let ended = RunEvent::JourneyEnded { took: Duration::from_millis(3), error: Some(err) }.to_string();
        assert_eq!(ended, "journey FAILED in 3.00 ms: redirect to \\u{202e}moc.evil\\u{9b}2J");
        let args = &Row::new(["\u{202e}"]);
        let started = RunEvent::JourneyStarted { journey: "j\u{1b}[0m", row: Some(1), args }.to_string();
        assert!(!started.contains('\u{1b}') && !started.contains('\u{202e}'), "{started}");
        let warning = RunEvent::Warning("entry \"a\u{1b}[2J\" has\ntwo lines").to_string();
        assert_eq!(warning, "WARNING: entry \"a\\u{1b}[2J\" has\ntwo lines");
    }

    /// Outside try: `journey test` said `args ["1", "Mary Ann"]`, leaving the user to match
    /// values to columns. It names the row and each value's column.
    #[test]
    fn a_journey_starts_with_its_rows_values_under_their_columns() {
        let columns: std::sync::Arc<[String]> = vec!["id".to_string(), "name".to_string()].into();
        let args = &Row::with_columns(vec!["1".into(), "Mary Ann".into()], columns);
        let started = RunEvent::JourneyStarted { journey: "login", row: Some(3), args }.to_string();
        assert_eq!(started, "journey login row 3: id=\"1\" name=\"Mary Ann\"");
        let args = &Row::new(["ann", "say \"hi\""]);
        let started = RunEvent::JourneyStarted { journey: "j", row: Some(1), args }.to_string();
        assert_eq!(started, "journey j row 1: \"ann\" \"say \\\"hi\\\"\"", "no column names: the values alone");
        let started = RunEvent::JourneyStarted { journey: "j", row: None, args: &Row::empty() }.to_string();
        assert_eq!(started, "journey j", "no datapool");
        let long = format!("start{}end", "x".repeat(500));
        let started = RunEvent::JourneyStarted { journey: "j", row: Some(1), args: &Row::new([long.as_str()]) };
        let started = started.to_string();
        let value = started.strip_prefix("journey j row 1: ").unwrap();
        assert_eq!(value.chars().count(), TRACE_VALUE_COLUMNS_MAX, "a long value is cut: {started}");
        assert!(value.starts_with("\"start") && value.ends_with("end\""), "its ends kept: {started}");
    }
}

//! `Ctx`, a journey's view of its core (Mite's context): transactions timed and nested,
//! messages, configuration, and the way into HTTP and WebSockets.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::driver::Moment;
use crate::journey::JourneyResult;
use crate::journey::request::Http;
use crate::journey::session::Session;
use crate::journey::shard::{Shard, ShardStats, TxnId};
use crate::model::config::Config;
use crate::model::terminal::printable;
use crate::stats::Latency;

/// A journey's view of its core (Mite's `ctx`): transactions, messages, configuration and
/// HTTP. A journey is an `async fn(&Ctx, Row) -> JourneyResult`; every request it sends is
/// recorded under the transaction current at the time.
///
/// ```
/// use mite_core::prelude::*;
/// # let target = mite_tools::Target::start(Default::default()).unwrap();
/// // `target`: the embedded target server, `mite_engine::testing::target()` in a user crate
///
/// async fn home(ctx: &Ctx, _row: Row) -> JourneyResult {
///     let url = format!("{}/json", ctx.config().get_or("base", "http://127.0.0.1:8080"));
///     ctx.transaction("home", async {
///         let response = ctx.http().get(&url).send().await?;
///         ctx.send("token", &[("value", &response.header("X-Token").unwrap_or("none"))]);
///         Ok(())
///     })
///     .await
/// }
///
/// let record = JourneyTest::new().config("base", target.url("")).run(home).unwrap();
/// assert_eq!(record.requests[0].transaction, "home");
/// assert_eq!(record.messages[0].fields, [("value".to_string(), "abc123".to_string())]);
/// ```
pub struct Ctx {
    pub(super) shard: Rc<Shard>,
    pub(super) journey: TxnId,
    pub(super) current: Cell<TxnId>,
    pub(super) depth: Cell<usize>,
    /// Open model: how late this journey started against its intended start, µs.
    pub(super) start_delay_us: Cell<Option<u64>>,
    /// This journey run's cookies (reset by `begin_run`).
    pub(crate) session: RefCell<Session>,
    /// The top-level transactions this journey began last (`TxnId::MAX`: none), so that
    /// beginning one again compares its name rather than looking it up in the core's table.
    roots_seen: Cell<[TxnId; ROOTS_SEEN]>,
    /// The clock read that began the current transaction, while its body's first poll lasts
    /// (`None` after it, and once a request took it): a declarative step's request starts at
    /// it rather than reading the clock again (see `RequestBuilder::timed_from_transaction`).
    pub(super) txn_began: Cell<Option<Moment>>,
    /// A top-level transaction's id told by the code about to begin it (a declarative step's,
    /// which its slot keeps), with where its name lies: taken by the next transaction begun,
    /// and used when that one is top-level and its name is that very text (see
    /// [`Ctx::hint_root`]).
    root_hint: Cell<Option<(*const u8, usize, TxnId)>>,
}

/// Top-level transaction names a journey keeps the ids of: a declarative journey's steps, or
/// the transactions of a Rust journey, in turn.
const ROOTS_SEEN: usize = 4;

impl Ctx {
    /// A context for journey `journey_name` on `shard` (the engine makes them).
    #[doc(hidden)]
    pub fn new(shard: Rc<Shard>, journey_name: &str) -> Ctx {
        let journey = shard.stats.borrow_mut().root(journey_name);
        Ctx {
            shard,
            journey,
            current: Cell::new(journey),
            depth: Cell::new(1),
            start_delay_us: Cell::new(None),
            session: RefCell::default(),
            roots_seen: Cell::new([TxnId::MAX; ROOTS_SEEN]),
            txn_began: Cell::new(None),
            root_hint: Cell::new(None),
        }
    }

    /// A new journey run starts on this context: its session (cookies) starts empty.
    pub(crate) fn begin_run(&self) {
        self.session.borrow_mut().reset();
    }

    /// Open model: sets how late the current journey started against its intended start;
    /// latencies are then also recorded corrected by it (coordinated omission).
    pub(crate) fn set_start_delay_us(&self, delay_us: Option<u64>) {
        self.start_delay_us.set(delay_us);
    }

    /// The core this journey runs on (the engine's own state).
    #[doc(hidden)]
    pub fn shard(&self) -> &Shard {
        &self.shard
    }

    /// Configuration (scenario values, `MITE_CONF_*` variables, `--config` overrides).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let users = ctx.config().get("users").ok_or_else(|| JourneyError::msg("no users"))?;
    ///     ctx.send("users", &[("n", &users)]);
    ///     Ok(())
    /// }
    ///
    /// let record = JourneyTest::new().config("users", "7").run(journey).unwrap();
    /// assert_eq!(record.messages[0].fields[0].1, "7");
    /// let record = JourneyTest::new().run(journey).unwrap();
    /// assert_eq!(record.result.unwrap_err().message, "no users");
    /// ```
    pub fn config(&self) -> &Config {
        &self.shard.config
    }

    /// The transaction requests and messages are recorded under now.
    pub(crate) fn current_txn(&self) -> TxnId {
        self.current.get()
    }

    /// The core's state, shared (a WebSocket closing after its journey keeps it).
    pub(crate) fn shard_rc(&self) -> &Rc<Shard> {
        &self.shard
    }

    /// Open model: how late this journey started, µs.
    pub(crate) fn start_delay_us(&self) -> Option<u64> {
        self.start_delay_us.get()
    }

    pub(super) fn trace(&self, line: fmt::Arguments<'_>) {
        if let Some(sink) = &self.shard.trace {
            // Only a journey test traces.
            std::hint::cold_path();
            sink(self.depth.get(), line);
        }
    }

    /// Whether this is a journey test, whose trace is written.
    pub(crate) fn tracing(&self) -> bool {
        self.shard.trace.is_some()
    }

    /// A line of the journey-test trace (nothing when not tracing).
    pub(crate) fn trace_line(&self, line: fmt::Arguments<'_>) {
        self.trace(line);
    }

    /// Times `body` as transaction `name` (nested names join as `outer :: inner`). An error
    /// from `body` is counted against this transaction, unless an inner one already counted
    /// it, and returned. The value `body` returns is the transaction's.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn checkout(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     ctx.transaction("checkout", async {
    ///         let items = ctx.transaction("basket", async { Ok(3) }).await?;
    ///         ctx.transaction("pay", async { Err(JourneyError::msg("declined").field("items", &items)) }).await
    ///     })
    ///     .await
    /// }
    ///
    /// let record = JourneyTest::new().run(checkout).unwrap();
    /// let names: Vec<_> = record.transactions.iter().map(|t| t.name.as_str()).collect();
    /// assert_eq!(names, ["checkout :: basket", "checkout :: pay", "checkout"]);
    /// assert_eq!(record.transaction("checkout :: pay").unwrap().error.as_deref(), Some("declined (items=3)"));
    /// ```
    ///
    /// A hand-written future rather than an `async fn`: an async fn would keep `body` twice in
    /// its state (as the argument and as the awaited value), doubling the size of every
    /// journey's future, which is copied whenever a journey starts.
    pub fn transaction<'a, T, F>(&'a self, name: &'a str, body: F) -> Transaction<'a, F>
    where
        F: Future<Output = JourneyResult<T>>,
    {
        Transaction { ctx: self, name, body: Some(body), open: None }
    }

    /// Tells the transaction about to begin that, begun at the top level, `name` is `id` (an id
    /// this core's table gave that name: it keeps it for the run). A declarative step's
    /// transaction so begins with no look-up of its name. The hint is taken by the next
    /// transaction begun, and used only when that one is top-level and named by this very text
    /// (the same bytes at the same place, which the caller keeps alive and unchanged until
    /// then).
    #[inline]
    pub(crate) fn hint_root(&self, name: &str, id: TxnId) {
        self.root_hint.set(Some((name.as_ptr(), name.len(), id)));
    }

    /// Whether a transaction begun now would be top-level (none open).
    #[inline]
    pub(crate) fn at_top_level(&self) -> bool {
        self.current.get() == self.journey
    }

    /// The current transaction given back to `parent`, one level up (a transaction ended, or
    /// dropped before it finished).
    #[inline(always)]
    fn leave_transaction(&self, parent: TxnId) {
        self.current.set(parent);
        self.depth.set(self.depth.get() - 1);
    }

    /// `body` polled inside a transaction: no response's end kept from an earlier poll, and the
    /// transaction's start read offered to the body's first poll only.
    #[inline(always)]
    fn poll_in_transaction<F: Future>(&self, body: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.shard.last_response_end.set(None);
        let poll = body.poll(cx);
        self.txn_began.set(None);
        poll
    }

    /// Starts transaction `name` under the current one; returns (parent, id, start).
    fn begin_transaction(&self, name: &str) -> (TxnId, TxnId, Moment) {
        let parent = self.current.get();
        let hint = self.root_hint.take();
        let id = match hint {
            Some((at, len, id)) if parent == self.journey && at == name.as_ptr() && len == name.len() => id,
            _ => {
                let mut stats = self.shard.stats.borrow_mut();
                if parent == self.journey { self.root(&mut stats, name) } else { stats.child(parent, name) }
            }
        };
        if self.tracing() {
            self.trace(format_args!("> transaction {}", printable(name)));
        }
        self.depth.set(self.depth.get() + 1);
        self.current.set(id);
        let began = Moment::now();
        self.txn_began.set(Some(began));
        (parent, id, began)
    }

    /// The id of top-level transaction `name`: one this journey began lately when its name is
    /// `name` (the table's name of a root is the name it was made for, and the table only
    /// grows: an id keeps its name for the run), else the table's.
    fn root(&self, stats: &mut ShardStats, name: &str) -> TxnId {
        let mut seen = self.roots_seen.get();
        if let Some(&id) = seen.iter().find(|&&id| id != TxnId::MAX && **stats.name(id) == *name) {
            return id;
        }
        let id = stats.root(name);
        // Kept only when the table's name is `name`: not the row names overflow into.
        if **stats.name(id) == *name {
            seen.rotate_right(1);
            seen[0] = id;
            self.roots_seen.set(seen);
        }
        id
    }

    /// Ends a transaction whose body returned `result`: records its time and outcome, restores
    /// the parent. A body that ended in the turn its last response came whole in ends when that
    /// response did (the injector's own work after it, checks and captures, not counted); else
    /// now.
    fn end_transaction<T>(
        &self,
        name: &str,
        open: (TxnId, TxnId, Moment),
        result: JourneyResult<T>,
    ) -> JourneyResult<T> {
        let (parent, id, started) = open;
        let ended = self.shard.last_response_end.get().unwrap_or_else(Moment::now);
        let took_us = ended.micros_since(started);
        self.leave_transaction(parent);
        let mut stats = self.shard.stats.borrow_mut();
        self.shard.record(|record| {
            record.transactions.push(crate::journey::record::RecordedTransaction {
                name: stats.name(id).to_string(),
                error: result.as_ref().err().map(ToString::to_string),
                duration: std::time::Duration::from_micros(took_us),
            })
        });
        let (txn, latencies) = stats.txn_latencies(id);
        latencies.record(Latency::Txn, took_us);
        if let Some(delay_us) = self.start_delay_us.get() {
            latencies.record(Latency::TxnCorrected, took_us.saturating_add(delay_us));
        }
        match result {
            Ok(value) => {
                txn.txn_ok += 1;
                drop(stats);
                // (The line made only when it is written: a load run makes none.)
                if self.tracing() {
                    self.trace(format_args!("< transaction {} ok in {}", printable(name), Millis(took_us)));
                }
                Ok(value)
            }
            Err(mut err) => {
                std::hint::cold_path();
                txn.txn_err += 1;
                drop(stats);
                if self.tracing() {
                    self.trace(format_args!("< transaction {} FAILED in {}: {err}", printable(name), Millis(took_us)));
                }
                err.recorded = true;
                Err(err)
            }
        }
    }

    /// Emits a message (Mite's `ctx.send`): counted by type in the results, printed by
    /// `journey test`. Each field is a name and anything that can be displayed.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn journey(ctx: &Ctx, row: Row) -> JourneyResult {
    ///     ctx.send("basket", &[("user", &row.get(0).unwrap_or("-")), ("items", &2)]);
    ///     Ok(())
    /// }
    ///
    /// let record = JourneyTest::new().row(Row::new(["ann"])).run(journey).unwrap();
    /// assert_eq!(record.messages[0].kind, "basket");
    /// assert_eq!(record.messages[0].fields, [("user".into(), "ann".into()), ("items".into(), "2".into())]);
    /// ```
    pub fn send(&self, kind: &str, fields: &[(&str, &dyn fmt::Display)]) {
        self.shard.stats.borrow_mut().message(kind);
        self.shard.record(|record| {
            let fields = fields.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
            record.messages.push(crate::journey::record::RecordedMessage { kind: kind.to_string(), fields });
        });
        if self.shard.trace.is_some() {
            let mut line = format!("send {kind}");
            for (name, value) in fields {
                line.push_str(&format!(" {name}={value}"));
            }
            self.trace(format_args!("{line}"));
        }
    }

    /// The HTTP client, as a request builder: the core's keep-alive connections, this
    /// journey's cookies.
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// # let target = mite_tools::Target::start(Default::default()).unwrap();
    /// // `target`: the embedded target server, `mite_engine::testing::target()` in a user crate
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let url = format!("{}/bytes/5", ctx.config().get_or("base", ""));
    ///     let response = ctx.http().get(&url).send().await?;
    ///     assert_eq!(response.body_len(), 5);
    ///     Ok(())
    /// }
    ///
    /// let record = JourneyTest::new().config("base", target.url("")).run(journey).unwrap();
    /// assert_eq!(record.statuses(), [Some(200)]);
    /// ```
    pub fn http(&self) -> Http<'_> {
        Http { ctx: self }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Ctx::transaction`]: await it (it records nothing until it is polled,
    /// and nothing when dropped before it finished).
    ///
    /// ```
    /// # use mite_core::prelude::*;
    /// async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
    ///     let never_awaited: Transaction<'_, _> = ctx.transaction("skipped", async { Ok(()) });
    ///     drop(never_awaited);
    ///     let n = ctx.transaction("counted", async { Ok(2) }).await?;
    ///     ctx.send("n", &[("n", &n)]);
    ///     Ok(())
    /// }
    ///
    /// let record = JourneyTest::new().run(journey).unwrap();
    /// assert_eq!(record.transactions.len(), 1);
    /// assert_eq!(record.transactions[0].name, "counted");
    /// ```
    pub struct Transaction<'a, F> {
        ctx: &'a Ctx,
        name: &'a str,
        // Taken (dropped in place) first when the transaction is dropped, so the transactions
        // open inside it give the current one back before it does.
        #[pin]
        body: Option<F>,
        // Set at the first poll: (parent, id, start).
        open: Option<(TxnId, TxnId, Moment)>,
    }

    impl<F> PinnedDrop for Transaction<'_, F> {
        /// A transaction dropped before it finished (a timeout or `select` around it, the
        /// run's stop) gives the current transaction back to its parent, so what the journey
        /// does next is not counted under it. Its body goes first, so transactions still open
        /// inside it (a timeout around both) give theirs back before it does. It records
        /// nothing: it never completed.
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            // Finished (every step's transaction, once a request) or never polled: nothing to
            // give back, and the body, done or never begun, drops after this in any order.
            if this.open.is_none() {
                return;
            }
            // Dropped by a journey's panic unwinding: the current transaction stays the one
            // the panic was in, for the slot to count it there (it then leaves them all).
            if std::thread::panicking() {
                return;
            }
            this.body.set(None);
            if let Some((parent, _, _)) = this.open.take() {
                this.ctx.leave_transaction(parent);
            }
        }
    }
}

impl<T, F: Future<Output = JourneyResult<T>>> Future for Transaction<'_, F> {
    type Output = JourneyResult<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<JourneyResult<T>> {
        let this = self.project();
        let (ctx, name) = (*this.ctx, *this.name);
        let open = *this.open.get_or_insert_with(|| ctx.begin_transaction(name));
        let Some(body) = this.body.as_pin_mut() else {
            // Only a drop takes the body, and nothing polls a dropped future.
            return Poll::Pending;
        };
        match ctx.poll_in_transaction(body, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                *this.open = None;
                Poll::Ready(ctx.end_transaction(name, open, result))
            }
        }
    }
}

/// A transaction a declarative step begins in its journey's own future ([`Ctx::open_transaction`]):
/// what [`Transaction`] does around a body, written out where the step sends its request, so
/// that no future is built around the step's body, moved into the journey's and dropped, once
/// a step. The step awaits through [`OpenTransaction::polled`] (each poll as `Transaction` polls
/// its body) and ends it with [`OpenTransaction::end`]; dropped before that (the run's stop), it
/// gives the current transaction back to its parent, as a `Transaction` dropped does.
pub(crate) struct OpenTransaction<'a> {
    ctx: &'a Ctx,
    name: &'a str,
    /// (parent, id, start).
    open: (TxnId, TxnId, Moment),
}

impl Ctx {
    /// Begins transaction `name` now, as a [`Transaction`]'s first poll does.
    #[inline(always)]
    pub(crate) fn open_transaction<'a>(&'a self, name: &'a str) -> OpenTransaction<'a> {
        let open = self.begin_transaction(name);
        self.shard.last_response_end.set(None);
        OpenTransaction { ctx: self, name, open }
    }
}

impl<'a> OpenTransaction<'a> {
    /// `future`, polled as a [`Transaction`] polls its body: no response's end kept from an
    /// earlier poll, and the transaction's start offered to the first poll only.
    #[inline(always)]
    pub(crate) fn polled<F: Future>(&self, future: F) -> InTransaction<'a, F> {
        InTransaction { ctx: self.ctx, future }
    }

    /// Ends the transaction with its body's `result`, as a [`Transaction`] whose body returned
    /// it: at the end of the response that came whole in this poll, if one did, else now.
    #[inline(always)]
    pub(crate) fn end<T>(self, result: JourneyResult<T>) -> JourneyResult<T> {
        let (ctx, name, open) = (self.ctx, self.name, self.open);
        // Ended: nothing to give back.
        std::mem::forget(self);
        ctx.txn_began.set(None);
        ctx.end_transaction(name, open, result)
    }
}

impl Drop for OpenTransaction<'_> {
    /// As a [`Transaction`] dropped before it finished: the current transaction given back to
    /// the parent (not when a panic unwinds: the slot counts the panic in the current one).
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        self.ctx.leave_transaction(self.open.0);
    }
}

pin_project_lite::pin_project! {
    /// A future awaited in an [`OpenTransaction`], polled as a [`Transaction`] polls its body.
    pub(crate) struct InTransaction<'a, F> {
        ctx: &'a Ctx,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for InTransaction<'_, F> {
    type Output = F::Output;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        this.ctx.poll_in_transaction(this.future, cx)
    }
}

/// Microseconds shown as milliseconds.
pub(super) struct Millis(pub(super) u64);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} ms", self.0 as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;

    /// Issue 11: a transaction dropped before it finished left `ctx.current` pointing at it,
    /// so the next transaction was named `cancelled :: next`.
    #[test]
    fn a_cancelled_transaction_gives_the_current_one_back() {
        use std::task::{Context, Poll, Waker};
        let http = crate::http::HttpClient::new(Arc::new(crate::http::HttpSettings::default()), None);
        let shard = Rc::new(Shard::new(0, 1, Arc::new(Config::default()), http, Instant::now()));
        let ctx = Ctx::new(shard.clone(), "journey");
        let mut cx = Context::from_waker(Waker::noop());
        {
            let mut cancelled = std::pin::pin!(ctx.transaction("cancelled", std::future::pending::<JourneyResult>()));
            assert!(cancelled.as_mut().poll(&mut cx).is_pending());
        }
        let next = std::pin::pin!(ctx.transaction("next", async { Ok(()) }));
        assert!(matches!(next.poll(&mut cx), Poll::Ready(Ok(()))));
        let snapshot = shard.stats.borrow_mut().take_snapshot(0, 0.0, 0, true);
        let names: Vec<&str> = snapshot.txns.iter().map(|(name, _)| name.as_ref()).collect();
        assert_eq!(names, vec!["next"]);
        assert_eq!(ctx.depth.get(), 1);
    }

    /// A declarative step's transaction, opened in its journey's own future: dropped before it
    /// ended (the run's stop while its request waits) it gives the current transaction back
    /// and records nothing, as a `Transaction` dropped does; a future awaited in it is offered
    /// the transaction's start in its first poll only; ended, it is recorded under its name.
    #[test]
    fn an_open_transaction_dropped_before_its_end_gives_the_current_one_back() {
        use std::task::{Context, Waker};
        let http = crate::http::HttpClient::new(Arc::new(crate::http::HttpSettings::default()), None);
        let shard = Rc::new(Shard::new(0, 1, Arc::new(Config::default()), http, Instant::now()));
        let ctx = Ctx::new(shard.clone(), "journey");
        let mut cx = Context::from_waker(Waker::noop());
        {
            let open = ctx.open_transaction("cancelled");
            assert_eq!(ctx.depth.get(), 2);
            assert!(ctx.txn_began.get().is_some());
            let mut waiting = std::pin::pin!(open.polled(std::future::pending::<()>()));
            assert!(waiting.as_mut().poll(&mut cx).is_pending());
            assert_eq!(ctx.txn_began.get(), None, "not kept past the first poll");
        }
        assert_eq!(ctx.depth.get(), 1);
        assert_eq!(ctx.current_txn(), ctx.journey);
        let ended = ctx.open_transaction("next").end(Ok(7));
        assert!(matches!(ended, Ok(7)));
        assert_eq!(ctx.depth.get(), 1);
        let snapshot = shard.stats.borrow_mut().take_snapshot(0, 0.0, 0, true);
        let names: Vec<&str> = snapshot.txns.iter().map(|(name, _)| name.as_ref()).collect();
        assert_eq!(names, vec!["next"]);
    }

    /// An outer transaction dropped while an inner one is open (a timeout around both) gives
    /// the current transaction back to the journey, not to the outer one: the next
    /// transaction is top-level, at depth 1.
    #[test]
    fn a_dropped_outer_transaction_leaves_no_inner_one_current() {
        use std::task::{Context, Poll, Waker};
        let http = crate::http::HttpClient::new(Arc::new(crate::http::HttpSettings::default()), None);
        let shard = Rc::new(Shard::new(0, 1, Arc::new(Config::default()), http, Instant::now()));
        let ctx = Ctx::new(shard.clone(), "journey");
        let mut cx = Context::from_waker(Waker::noop());
        {
            let inner = ctx.transaction("inner", std::future::pending::<JourneyResult>());
            let mut outer = std::pin::pin!(ctx.transaction("outer", inner));
            assert!(outer.as_mut().poll(&mut cx).is_pending());
            assert_eq!(ctx.depth.get(), 3);
        }
        assert_eq!(ctx.depth.get(), 1);
        let next = std::pin::pin!(ctx.transaction("next", async { Ok(()) }));
        assert!(matches!(next.poll(&mut cx), Poll::Ready(Ok(()))));
        let snapshot = shard.stats.borrow_mut().take_snapshot(0, 0.0, 0, true);
        let names: Vec<&str> = snapshot.txns.iter().map(|(name, _)| name.as_ref()).collect();
        assert!(names.contains(&"next"), "{names:?}");
        assert!(!names.iter().any(|name| name.ends_with(":: next")), "{names:?}");
    }

    /// A transaction whose body ends in the turn its last response came whole in ends when that
    /// response did (one clock read for both): the injector's own work after the response in
    /// that turn is not counted. A body that waits after its response ends when it ends.
    #[test]
    fn a_transaction_ending_with_its_response_ends_at_the_responses_end() {
        use crate::prelude::*;
        const AFTER: Duration = Duration::from_millis(40);
        async fn journey(ctx: &Ctx, _row: Row) -> JourneyResult {
            let url = ctx.config().get_or("base", "").to_string();
            let spun = ctx.transaction("spun", async {
                ctx.http().get(&url).send().await?;
                let spun = Instant::now();
                while spun.elapsed() < AFTER {}
                Ok(())
            });
            spun.await?;
            ctx.transaction("waited", async {
                ctx.http().get(&url).send().await?;
                crate::driver::pause(AFTER).await;
                Ok(())
            })
            .await
        }
        let target = mite_tools::Target::start(mite_tools::TargetOptions::default()).unwrap();
        let record = JourneyTest::new().config("base", target.url("/")).run(journey).unwrap();
        assert!(record.is_ok(), "{:?}", record.result);
        let took: Vec<(&str, Duration)> =
            record.transactions.iter().map(|txn| (txn.name.as_str(), txn.duration)).collect();
        assert_eq!(took.len(), 2);
        assert!(took[0].1 < AFTER, "the spin after the response is not counted: {took:?}");
        assert!(took[1].1 >= AFTER, "the wait after the response is: {took:?}");
    }

    /// A declarative step's request starts at its transaction's start (one clock read for
    /// both) when it is sent in the poll the transaction began in, and only the first such
    /// request; a request that does not ask, or one sent after the transaction waited, reads
    /// the clock itself.
    #[test]
    fn a_step_request_starts_at_its_transactions_start_read() {
        use crate::journey::request::RequestBuilder;
        use std::task::{Context, Poll, Waker};
        const URL: &str = "http://127.0.0.1:1/";
        let http = crate::http::HttpClient::new(Arc::new(crate::http::HttpSettings::default()), None);
        let shard = Rc::new(Shard::new(0, 1, Arc::new(Config::default()), http, Instant::now()));
        let ctx = Ctx::new(shard, "journey");
        let started = |request: RequestBuilder<'_>| {
            let mut encoded = None;
            ctx.open_exchange(&request, &mut encoded).map(|(exchange, _)| exchange.started).unwrap()
        };
        let mut cx = Context::from_waker(Waker::noop());
        let first = std::pin::pin!(ctx.transaction("first", async {
            let began = ctx.txn_began.get();
            assert!(began.is_some(), "the transaction's start is kept while its first poll lasts");
            assert_eq!(started(ctx.http().get(URL)), None, "a request that does not ask reads the clock");
            assert_eq!(started(ctx.http().get(URL).timed_from_transaction()), began);
            assert_eq!(started(ctx.http().get(URL).timed_from_transaction()), None, "the first request only");
            Ok(())
        }));
        assert!(matches!(first.poll(&mut cx), Poll::Ready(Ok(()))));
        assert_eq!(ctx.txn_began.get(), None, "not kept past the transaction's poll");
        let mut waited = false;
        let wait_once =
            std::future::poll_fn(
                |_| if std::mem::replace(&mut waited, true) { Poll::Ready(()) } else { Poll::Pending },
            );
        let mut second = std::pin::pin!(ctx.transaction("second", async {
            wait_once.await;
            Ok(started(ctx.http().get(URL).timed_from_transaction()))
        }));
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert!(matches!(second.poll(&mut cx), Poll::Ready(Ok(None))), "after a wait the request reads the clock");
    }

    /// A hinted id is used only by the next transaction begun, only when that one is top-level
    /// and named by the very text the hint was given with: a nested transaction of the same
    /// name is the parent's child, a name equal in text but held elsewhere is looked up, and a
    /// hint not used is gone after that transaction.
    #[test]
    fn a_root_hint_serves_the_next_top_level_transaction_of_that_very_name_only() {
        use std::task::{Context, Poll, Waker};
        let http = crate::http::HttpClient::new(Arc::new(crate::http::HttpSettings::default()), None);
        let shard = Rc::new(Shard::new(0, 1, Arc::new(Config::default()), http, Instant::now()));
        let ctx = Ctx::new(shard.clone(), "journey");
        let (step, other) = (String::from("step"), String::from("other"));
        let (step_id, other_id) = {
            let mut stats = shard.stats.borrow_mut();
            (stats.root(&step), stats.root(&other))
        };
        let begun = |name: &str| {
            let txn = std::pin::pin!(ctx.transaction(name, async { Ok(ctx.current_txn()) }));
            match txn.poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(Ok(id)) => id,
                _ => unreachable!("the body is ready at once"),
            }
        };
        // A wrong hint (another name's id) for this very text is taken as told: the caller's
        // word. Used once only.
        ctx.hint_root(&step, other_id);
        assert_eq!(begun(&step), other_id);
        assert_eq!(begun(&step), step_id, "the hint is used once");
        // The same text held elsewhere: looked up.
        ctx.hint_root(&step, other_id);
        assert_eq!(begun(&String::from("step")), step_id);
        assert_eq!(begun(&step), step_id, "a hint not used is gone");
        // Nested: the child of the open transaction, and the hint gone with it.
        ctx.hint_root(&step, other_id);
        let outer = std::pin::pin!(ctx.transaction("outer", async { Ok(begun(&step)) }));
        let Poll::Ready(Ok(inner)) = outer.poll(&mut Context::from_waker(Waker::noop())) else {
            unreachable!("ready at once")
        };
        assert_eq!(&**shard.stats.borrow().name(inner), "outer :: step");
        assert_eq!(begun(&step), step_id);
    }

    /// A top-level transaction begun again has the id the core's table gives its name, whether
    /// the journey kept it or not, and names that overflow the table are not kept as theirs.
    #[test]
    fn roots_begun_again_have_the_tables_ids() {
        let http = crate::http::HttpClient::new(Arc::new(crate::http::HttpSettings::default()), None);
        let shard = Rc::new(Shard::new(0, 1, Arc::new(Config::default()), http, Instant::now()));
        let ctx = Ctx::new(shard.clone(), "journey");
        let names = ["a", "b", "a", "c", "d", "e", "b", "a", "journey", "ab", "ba", "a", "e", "f", "g", "h", "a"];
        for name in names {
            let mut stats = shard.stats.borrow_mut();
            let id = ctx.root(&mut stats, name);
            assert_eq!(id, stats.root(name), "{name}");
            assert_eq!(**stats.name(id), *name);
        }
        // The table full: new names share the overflow row (named as a journey may name one of
        // its own), names already in it keep theirs.
        let mut stats = shard.stats.borrow_mut();
        let named_as_overflow = stats.root("(too many transaction names)");
        for i in 0..crate::limits::TRANSACTIONS_MAX {
            stats.root(&format!("n{i}"));
        }
        let overflow = stats.root("x");
        assert_ne!(overflow, named_as_overflow);
        for name in ["x", "y", "a", "x", "n0", "(too many transaction names)", "y", "h"] {
            let id = ctx.root(&mut stats, name);
            assert_eq!(id, stats.root(name), "{name}");
            assert_eq!(id == overflow, ["x", "y"].contains(&name), "{name}");
        }
    }

    /// The library never prints: a journey test's trace goes to the sink its caller gives,
    /// with its nesting depth, and a load run (no sink) traces nothing.
    #[test]
    fn the_trace_goes_to_the_callers_sink() {
        use std::cell::RefCell;
        use std::task::{Context, Poll, Waker};
        let lines = Rc::new(RefCell::new(Vec::<String>::new()));
        let seen = lines.clone();
        let http = crate::http::HttpClient::new(Arc::new(crate::http::HttpSettings::default()), None);
        let shard = Shard::new(0, 1, Arc::new(Config::default()), http, Instant::now())
            .with_trace(Box::new(move |depth, line| seen.borrow_mut().push(format!("{depth} {line}"))));
        let ctx = Ctx::new(Rc::new(shard), "journey");
        let mut cx = Context::from_waker(Waker::noop());
        let outer = std::pin::pin!(ctx.transaction("outer", async {
            ctx.send("seen", &[("n", &1)]);
            Ok(())
        }));
        assert!(matches!(outer.poll(&mut cx), Poll::Ready(Ok(()))));
        let lines = lines.borrow();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0], "1 > transaction outer");
        assert_eq!(lines[1], "2 send seen n=1");
        assert!(lines[2].starts_with("1 < transaction outer ok in "), "{lines:?}");
    }
}

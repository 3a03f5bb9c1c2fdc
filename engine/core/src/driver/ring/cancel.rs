//! Cancelling a receive on the own ring without losing a byte: a [`Canceller`] hands out
//! [`CancelHandle`]s; a receive made with one registers its user data (its slot and that use of it) while it waits, and
//! [`Canceller::cancel`] asks the kernel to end it (IORING_OP_ASYNC_CANCEL on its user data).
//! A receive cancelled before data came ends with ECANCELED and consumes nothing; one that
//! completed first returns its bytes. A receive made with a handle already cancelled ends at
//! once with ECANCELED. (Dropping a receive instead can lose what the kernel had already
//! delivered for it.)

use std::cell::Cell;
use std::rc::Rc;

use super::uring;

/// No receive waits (never an operation's user data).
pub(super) const NOT_WAITING: u64 = u64::MAX;

struct Shared {
    cancelled: Cell<bool>,
    /// The user data of the receive waiting with a handle of this canceller (one at a time:
    /// the WebSocket client makes one read at a time).
    waiting: Cell<u64>,
}

/// Cancels the receives made with its handles.
pub struct Canceller {
    shared: Rc<Shared>,
}

/// Passed to a cancellable receive ([`super::TcpSocket::recv_cancelable`]).
#[derive(Clone)]
pub struct CancelHandle {
    shared: Rc<Shared>,
}

impl Default for Canceller {
    fn default() -> Self {
        Canceller { shared: Rc::new(Shared { cancelled: Cell::new(false), waiting: Cell::new(NOT_WAITING) }) }
    }
}

impl Canceller {
    /// A canceller that has cancelled nothing.
    pub fn new() -> Canceller {
        Canceller::default()
    }

    /// A handle for a receive.
    pub fn handle(&self) -> CancelHandle {
        CancelHandle { shared: self.shared.clone() }
    }

    /// Cancels the receive waiting with one of its handles, and every later one made with
    /// them; returns a fresh canceller for the receives after.
    pub fn cancel(self) -> Canceller {
        self.shared.cancelled.set(true);
        let waiting = self.shared.waiting.replace(NOT_WAITING);
        if waiting != NOT_WAITING {
            uring::cancel(waiting);
        }
        Canceller::new()
    }
}

impl CancelHandle {
    /// Whether its canceller has cancelled.
    pub(super) fn cancelled(&self) -> bool {
        self.shared.cancelled.get()
    }

    /// Registers the receive of `user_data` until the guard is dropped.
    pub(super) fn register(&self, user_data: u64) -> Registered<'_> {
        self.set_waiting(user_data);
        Registered { handle: self, user_data }
    }

    /// Registers the receive of `user_data` until [`CancelHandle::unset_waiting`] (for a future
    /// that keeps no guard).
    pub(super) fn set_waiting(&self, user_data: u64) {
        debug_assert_eq!(self.shared.waiting.get(), NOT_WAITING, "one receive at a time per canceller");
        self.shared.waiting.set(user_data);
    }

    /// Ends the registration of the receive of `user_data` (if it is still the one waiting).
    pub(super) fn unset_waiting(&self, user_data: u64) {
        if self.shared.waiting.get() == user_data {
            self.shared.waiting.set(NOT_WAITING);
        }
    }
}

/// A receive registered with its handle; dropped once the receive has returned (its slot is
/// free then, and may be another operation's: a cancel naming it then ends nothing, its user
/// data names that use of the slot).
pub(super) struct Registered<'a> {
    handle: &'a CancelHandle,
    user_data: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.handle.unset_waiting(self.user_data);
    }
}

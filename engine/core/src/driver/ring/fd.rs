//! A descriptor the own ring reads or writes, closed through the ring when dropped.
//!
//! A descriptor closed with `close(2)` while an operation naming it waits in the submission
//! queue (pushed this turn, not yet handed to the kernel) is a hazard: the kernel looks the
//! number up when it takes the entry, and by then the number may name another thread's socket
//! (a target's connection, another run's): the operation reads that socket's bytes. A close
//! pushed on the same ring is taken after every entry pushed before it.
//!
//! Not `Send`: dropped on another thread, it would close through that thread's ring (or
//! directly), and the entries still queued on its own ring could reach a reused number.

use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};

use io_uring::{opcode, types};

use super::files::FixedFile;
use super::uring::{close_fixed, push_ignored, register_file};

/// An owned descriptor closed through this thread's ring (directly when it has none), and its
/// place in the ring's table of files when it has one there.
pub struct RingFd {
    fd: RawFd,
    fixed: Option<FixedFile>,
    /// Not `Send`: closed through the ring of the thread that made it (see the module's note).
    _this_thread: std::marker::PhantomData<std::rc::Rc<()>>,
}

impl From<OwnedFd> for RingFd {
    fn from(fd: OwnedFd) -> RingFd {
        RingFd { fd: fd.into_raw_fd(), fixed: None, _this_thread: std::marker::PhantomData }
    }
}

impl RingFd {
    /// Takes `fd` (a new descriptor nobody else owns or closes) and registers it in this
    /// thread's ring's table of files, where there is room (else it is named by its descriptor).
    ///
    /// # Safety
    /// `fd` is open and owned by the caller alone.
    pub(super) unsafe fn registered(fd: RawFd) -> RingFd {
        RingFd { fd, fixed: register_file(fd), _this_thread: std::marker::PhantomData }
    }

    /// Its place in its ring's table of files, if it has one.
    #[inline(always)]
    pub(super) fn fixed(&self) -> Option<FixedFile> {
        self.fixed
    }
}

impl AsRawFd for RingFd {
    #[inline(always)]
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl Drop for RingFd {
    fn drop(&mut self) {
        // The place first: the table holds the file open until its close.
        if let Some(file) = self.fixed {
            close_fixed(file);
        }
        if !push_ignored(opcode::Close::new(types::Fd(self.fd)).build()) {
            // SAFETY: the descriptor is this value's own, closed once; with no ring, no
            // operation of this thread can still name it.
            unsafe { libc::close(self.fd) };
        }
    }
}

/// A `RingFd` (and so a `TcpSocket`) cannot move to another thread: this fails to build if it
/// could (two impls would apply and the call would be ambiguous).
const _: fn() = || {
    trait AmbiguousIfSend<Which> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
    <RingFd as AmbiguousIfSend<_>>::check();
    <super::TcpSocket as AmbiguousIfSend<_>>::check();
};

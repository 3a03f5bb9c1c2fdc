//! The engine's own io_uring runtime (`--driver own`): a single-threaded executor
//! (`executor`) turning with one ring per core (`uring`, its table of registered files
//! `files`, its provided buffers `bufs`), and TCP on that ring (`tcp`). It replaces monoio on the io_uring path for plain
//! HTTP; monoio stays for `io_uring` and `epoll`.

mod bufs;
mod cancel;
mod executor;
mod fd;
mod files;
mod tcp;
mod uring;

use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;

pub use cancel::{CancelHandle, Canceller};
pub use fd::RingFd;
pub use tcp::{Read, Recv, RingBuf, Send, SendRead, TcpSocket};

/// This thread's own runtime, while built: dropped, it drops the tasks left, cancels what is in
/// flight and closes the ring.
pub struct OwnRuntime {
    /// Not `Send`: the runtime's state lives in this thread's locals.
    _this_thread: std::marker::PhantomData<std::rc::Rc<()>>,
}

impl OwnRuntime {
    /// Builds the ring on this thread (deferred task work when the kernel has it and `deferred`).
    pub fn build(entries: u32, deferred: bool) -> io::Result<OwnRuntime> {
        if uring::installed() {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, "an own runtime already runs on this thread"));
        }
        let afar = executor::prepare()?;
        uring::install(entries, deferred, afar)?;
        Ok(OwnRuntime { _this_thread: std::marker::PhantomData })
    }

    /// Runs `future` to completion, with the tasks it spawns.
    pub fn block_on<F: Future>(&mut self, future: F) -> F::Output {
        executor::block_on(future, uring::turn)
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        executor::drop_all_tasks();
        uring::uninstall();
    }
}

/// Whether this thread runs the own runtime.
#[inline]
pub fn running() -> bool {
    uring::installed()
}

/// Starts `task` on this thread's own runtime.
pub fn spawn<F: Future<Output = ()> + 'static>(task: F) {
    executor::spawn(task);
}

/// Reads up to `buf.len()` bytes of `fd` (a timerfd's expiry count) through the ring.
pub async fn read(fd: &RingFd, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
    let fd = fd.as_raw_fd();
    let op = uring::Op::push(buf, |buf| {
        io_uring::opcode::Read::new(io_uring::types::Fd(fd), buf.as_mut_ptr(), buf.len() as u32).build()
    });
    let (result, buf) = op.await;
    (uring::io_result(result), buf)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod stream_props;

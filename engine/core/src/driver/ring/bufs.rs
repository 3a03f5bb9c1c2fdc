//! The ring's provided buffers: one pool a core, registered with its ring as a buffer ring
//! (Linux 5.19), that the kernel fills for the sockets' multishot receives (each completion
//! names the buffer it took). A buffer goes back to the kernel once its bytes have been copied
//! out (`give_back`), so a connection holds no memory of its own while it waits: what arrives
//! for it sits in the pool until its reader takes it.

use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::IoUring;
use io_uring::types::BufRingEntry;

/// Bytes a buffer holds: the most one completion of a multishot receive brings.
pub(super) const PROVIDED_BUF_BYTES: usize = 16 * 1024;
/// Buffers in a core's pool (a power of two): what arrives for all of a core's connections and
/// is not yet taken. Untouched pages cost no memory; a receive that finds the pool empty ends
/// its stream (`ENOBUFS`) and its reader receives into its own buffer.
pub(super) const PROVIDED_BUFS: u16 = 256;
/// The pool's group id (the only one).
pub(super) const BUF_GROUP: u16 = 0;
/// The ring's entries are read by the kernel at a page's start.
const PAGE_BYTES: usize = 4096;

#[cfg(test)]
thread_local! {
    /// The number of buffers of the next pool made on this thread (tests; a power of two).
    pub(super) static POOL_BUFS: std::cell::Cell<Option<u16>> = const { std::cell::Cell::new(None) };
}

/// A core's pool: the ring of entries the kernel takes buffers from, and their memory.
pub(super) struct ProvidedBufs {
    entries: NonNull<BufRingEntry>,
    memory: NonNull<u8>,
    /// Buffers in the pool (a power of two).
    count: u16,
    /// The next entry to fill when a buffer is given back (the kernel's view of it is the
    /// shared tail, stored after each).
    tail: u16,
    /// Buffers a completion named and not given back yet (tests).
    #[cfg(test)]
    pub(super) out: u32,
}

fn entries_layout(count: u16) -> Layout {
    Layout::from_size_align(usize::from(count) * std::mem::size_of::<BufRingEntry>(), PAGE_BYTES)
        .expect("a page-aligned layout of the buffer ring's entries")
}

fn memory_layout(count: u16) -> Layout {
    Layout::from_size_align(usize::from(count) * PROVIDED_BUF_BYTES, PAGE_BYTES)
        .expect("a page-aligned layout of the provided buffers")
}

impl ProvidedBufs {
    /// A pool registered with `ring`, every buffer handed to the kernel; `None` when the kernel
    /// refuses it (before 5.19): the ring's sockets then receive into their own buffers.
    pub(super) fn register(ring: &IoUring) -> Option<ProvidedBufs> {
        let count = PROVIDED_BUFS;
        #[cfg(test)]
        let count = POOL_BUFS.get().unwrap_or(count);
        // SAFETY: non-zero sizes; the entries zeroed (the kernel reads them), the buffers'
        // memory left as it is (only bytes the kernel wrote are ever read).
        let entries = NonNull::new(unsafe { std::alloc::alloc_zeroed(entries_layout(count)) }.cast::<BufRingEntry>())?;
        let Some(memory) = NonNull::new(unsafe { std::alloc::alloc(memory_layout(count)) }) else {
            // SAFETY: allocated just above with this layout.
            unsafe { std::alloc::dealloc(entries.as_ptr().cast(), entries_layout(count)) };
            return None;
        };
        #[cfg(test)]
        let mut bufs = ProvidedBufs { entries, memory, count, tail: 0, out: 0 };
        #[cfg(not(test))]
        let mut bufs = ProvidedBufs { entries, memory, count, tail: 0 };
        // SAFETY: the entries and the memory stay valid until the ring has ended (the pool is
        // dropped after it, or leaked with what the kernel may still use, see `Ring::abandon`).
        let registered = unsafe { ring.submitter().register_buf_ring(entries.as_ptr() as u64, count, BUF_GROUP) };
        if registered.is_err() {
            return None; // dropped: nothing was registered
        }
        for bid in 0..count {
            bufs.hand(bid);
        }
        Some(bufs)
    }

    /// Notes that a completion named buffer `bid` (the kernel filled it): it is out of the
    /// pool until given back.
    #[inline(always)]
    pub(super) fn filled(&mut self, bid: u16) {
        debug_assert!(bid < self.count, "a completion names a buffer of the pool");
        #[cfg(test)]
        {
            self.out += 1;
        }
    }

    /// The first `len` bytes of buffer `bid`, which the kernel wrote (a completion said so).
    pub(super) fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        assert!(bid < self.count && len <= PROVIDED_BUF_BYTES, "a completion names a buffer of the pool");
        // SAFETY: within the pool's memory; the kernel wrote these bytes before the completion
        // that names them, and does not touch the buffer again until it is given back.
        unsafe { std::slice::from_raw_parts(self.memory.as_ptr().add(usize::from(bid) * PROVIDED_BUF_BYTES), len) }
    }

    /// Hands buffer `bid` back to the kernel (its bytes were taken, or nobody will take them).
    pub(super) fn give_back(&mut self, bid: u16) {
        #[cfg(test)]
        {
            self.out -= 1;
        }
        self.hand(bid);
    }

    /// Puts buffer `bid` in the ring's next entry and publishes it.
    fn hand(&mut self, bid: u16) {
        let at = usize::from(self.tail & (self.count - 1));
        // SAFETY: `at` is within the ring's entries; the kernel reads an entry only between the
        // shared tail's old and new value, which this store has not published yet.
        let entry = unsafe { &mut *self.entries.as_ptr().add(at) };
        // SAFETY: within the pool's memory.
        entry.set_addr(unsafe { self.memory.as_ptr().add(usize::from(bid) * PROVIDED_BUF_BYTES) } as u64);
        entry.set_len(PROVIDED_BUF_BYTES as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
        // SAFETY: the tail is the u16 the kernel reads in the first entry's last field; the
        // release store publishes the entry written above with it.
        let tail = unsafe { &*BufRingEntry::tail(self.entries.as_ptr()).cast::<AtomicU16>() };
        tail.store(self.tail, Ordering::Release);
    }
}

impl Drop for ProvidedBufs {
    fn drop(&mut self) {
        // SAFETY: allocated in `register` with these layouts; dropped only once the kernel is
        // done with them (the ring ended with nothing in flight; otherwise leaked instead).
        unsafe {
            std::alloc::dealloc(self.entries.as_ptr().cast(), entries_layout(self.count));
            std::alloc::dealloc(self.memory.as_ptr(), memory_layout(self.count));
        }
    }
}

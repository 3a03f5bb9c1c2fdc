//! Connection buffers lent per core: a connection holds its read, write and body buffers only
//! while an exchange is in flight. An idle keep-alive connection holds none, so the engine's
//! memory grows with the requests in flight, not with the connections open.

use bytes::BytesMut;

use crate::limits::{
    CONN_BUFFERS_POOLED_PER_CORE_MAX, READ_BUFFER_BYTES, READ_BUFFER_KEPT_BYTES_MAX, WRITE_BUFFER_BYTES,
};

/// The buffers one exchange uses.
pub(crate) struct ConnBuffers {
    /// Response bytes read from the connection and not yet parsed.
    pub read: BytesMut,
    /// The encoded request.
    pub write: BytesMut,
    /// The response body, when the request keeps it.
    pub body: BytesMut,
}

impl ConnBuffers {
    fn fresh() -> Box<ConnBuffers> {
        Box::new(ConnBuffers {
            read: BytesMut::with_capacity(READ_BUFFER_BYTES),
            write: BytesMut::with_capacity(WRITE_BUFFER_BYTES),
            body: BytesMut::new(),
        })
    }
}

/// One core's spare buffers. Lending and returning move buffer sets in and out of a vector
/// that stops growing once it holds the peak number of exchanges in flight: no allocation per
/// request after warm-up. A set is boxed (once, when made): lending one moves a pointer.
pub(crate) struct BufferPool {
    // Boxed on purpose: a lent set moves into its connection as one pointer.
    #[allow(clippy::vec_box)]
    free: Vec<Box<ConnBuffers>>,
}

impl BufferPool {
    /// An empty pool.
    pub fn new() -> BufferPool {
        BufferPool { free: Vec::new() }
    }

    /// Buffers for one exchange: spare ones when there are any, else new ones.
    pub fn lend(&mut self) -> Box<ConnBuffers> {
        self.free.pop().unwrap_or_else(ConnBuffers::fresh)
    }

    /// Takes buffers back for the next exchange. A read buffer grown past
    /// `READ_BUFFER_KEPT_BYTES_MAX` (a large head) is freed, not kept, and so is anything
    /// beyond `CONN_BUFFERS_POOLED_PER_CORE_MAX` spare sets.
    pub fn give_back(&mut self, mut buffers: Box<ConnBuffers>) {
        if buffers.read.capacity() > READ_BUFFER_KEPT_BYTES_MAX || self.free.len() >= CONN_BUFFERS_POOLED_PER_CORE_MAX {
            return;
        }
        buffers.read.clear();
        buffers.write.clear();
        buffers.body.clear();
        self.free.push(buffers);
    }

    /// Spare buffer sets held.
    #[cfg(test)]
    pub fn spare(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lent_buffers_come_back_and_are_reused() {
        let mut pool = BufferPool::new();
        let first = pool.lend();
        let address = first.read.as_ptr();
        pool.give_back(first);
        assert_eq!(pool.spare(), 1);
        let again = pool.lend();
        assert_eq!(again.read.as_ptr(), address, "the spare set is lent again");
        assert_eq!(again.read.capacity(), READ_BUFFER_BYTES);
        assert_eq!(pool.spare(), 0);
    }

    #[test]
    fn grown_read_buffers_are_not_kept() {
        let mut pool = BufferPool::new();
        let mut big = pool.lend();
        big.read.reserve(READ_BUFFER_KEPT_BYTES_MAX * 2);
        pool.give_back(big);
        assert_eq!(pool.spare(), 0);
    }

    #[test]
    fn the_pool_is_bounded() {
        let mut pool = BufferPool::new();
        let lent: Vec<Box<ConnBuffers>> = (0..CONN_BUFFERS_POOLED_PER_CORE_MAX + 10).map(|_| pool.lend()).collect();
        for buffers in lent {
            pool.give_back(buffers);
        }
        assert_eq!(pool.spare(), CONN_BUFFERS_POOLED_PER_CORE_MAX);
    }
}

//! The size of a journey's future is copied every time a journey starts: keep it small.
//! (An `async fn` wrapper that awaits its by-value argument doubles it; see `Ctx::transaction`.)

use std::sync::Arc;

use mite_core::http::{HttpClient, HttpSettings};
use mite_core::journey::shard::Shard;
use mite_core::{Ctx, DriverChoice, Row};

#[test]
fn plain_get_journey_future_stays_small() {
    let (mut runtime, _) = mite_core::driver::CoreRuntime::build(DriverChoice::Epoll).unwrap();
    runtime.block_on(async {
        let client = HttpClient::new(Arc::new(HttpSettings::default()), None);
        let shard = std::rc::Rc::new(Shard::new(0, 1, Arc::default(), client, std::time::Instant::now()));
        let ctx = Ctx::new(shard, "j");
        let send = ctx.http().get("http://127.0.0.1:1/").send();
        let send_bytes = std::mem::size_of_val(&send);
        let journey = mite_journeys::http_example::journey(&ctx, Row::empty());
        let journey_bytes = std::mem::size_of_val(&journey);
        println!("send future {send_bytes} bytes, journey future {journey_bytes} bytes");
        // One request's future plus a little: no doubling by the transaction wrapper.
        assert!(journey_bytes < send_bytes + 512, "journey {journey_bytes} vs send {send_bytes}");
        // Every idle journey holds this much (its task is sized for it): in a test build 1,224
        // bytes (send 1,040) since a request's lateness is worked out from its start, its
        // deadline not kept across the round trip's await (8 bytes fewer); 1,232 bytes (send
        // 1,048) since the request timeout is read where a request times out, not
        // kept across the round trip's await (16 bytes fewer); 1,248 bytes (send 1,064) since
        // the client's exchange is written out in `send`'s future (no
        // future of its own: 8 bytes fewer); 1,256 bytes (send 1,072) since an exchange holds its request's method by reference (one
        // pointer, not a string's two words: its idempotence and `HEAD` read from the method,
        // not compared as text); 1,264 bytes (send 1,080) since an exchange may carry its head encoded once (a declarative
        // step's plain request: one pointer, for some 160 instructions a request fewer); 1,248
        // bytes (send 1,072) since an exchange may be given its start (a declarative step's
        // request takes its transaction's clock read: 8 bytes more); 1,240 (send 1,064) since
        // the round trip is awaited in the exchange itself (64 bytes
        // fewer) and the plain request awaits the client's exchange in `send` (24 fewer); 1,328
        // bytes (send 1,152) since the exchange's two levels keep their arguments once too (40
        // bytes fewer); 1,368 (send 1,192) since `round_trip` keeps its arguments once (an async
        // block, not an `async fn`: 72 bytes fewer); 1,448 (send 1,264) since the request's write is awaited in the exchange's own future
        // (not in a function's future of its own, copied into it: 128 bytes fewer); 1,576
        // (send 1,392) since an exchange holds its connection work compactly (boxed, when
        // there is some: 160 bytes fewer); 1,736 (send 1,552) since a request's write and the
        // first read of its answer are in flight together on io_uring (both ops' futures at
        // once, and the write's result when it is looked at before the read returns: 208
        // bytes more, for one wake of the journey per request fewer); 1,528 (send 1,344)
        // before that, since the connection and its buffers are boxed; 1,832 before, and more
        // with monoio's 640-byte, 128-aligned sleep in it. Limits: those, and a little.
        assert!(send_bytes <= 1_040, "send future grew to {send_bytes} bytes");
        assert!(journey_bytes <= 1_224, "journey future grew to {journey_bytes} bytes");
    });
}

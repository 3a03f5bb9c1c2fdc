//! WebSockets for journeys (Mite's `ctx.websocket`): the client over the engine's own
//! connections on each core, and its counters. The frame codec is `mite_codec::ws`.

pub mod client;

pub use client::{WebSocket, WebSockets, WsConnect, WsMessage};

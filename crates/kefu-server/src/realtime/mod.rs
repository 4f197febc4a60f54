//! Realtime delivery: the in-process [`Hub`] that fans committed events out to sockets, and
//! the WebSocket connection loop. The database stays the truth; sockets are a cache of it
//! that a client can always rebuild by resubscribing with its last seq.

pub mod connection;
pub mod hub;

pub use hub::{Hub, Topic};

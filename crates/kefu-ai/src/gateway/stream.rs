//! The streaming side of a call: [`GatewayStream`], what `chat_stream` returns, and the
//! `Emitter` the call uses to feed it.
//!
//! The call is a future owned by the stream and driven by the consumer's own polls, not a
//! spawned task: each `poll_next` first advances the call (reading and parsing what the
//! provider sent) and then hands out what it produced. A spawned task cost two trips through
//! the runtime's run queue per answer (the spawn, then waking the consumer for each delta),
//! and with tens of streams in flight those queues are long (BENCHMARKS.md, gateway section).
//! Driven in place, a delta reaches the consumer in the poll that parsed it.
//!
//! What the spawned task gave still holds: a slow consumer slows the read from the provider
//! (the call only runs while polled, and a small bounded channel sits between them), and
//! dropping the stream drops the call, which aborts the HTTP request and frees its slot.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::error::GatewayError;
use super::types::StreamEvent;

pub(crate) type Item = Result<StreamEvent, GatewayError>;

/// Buffered events between the call and the consumer.
pub(crate) const CHANNEL: usize = 64;

/// The running call of a [`GatewayStream`]. In a `Mutex` only so the stream stays `Sync` as it
/// was; it is reached through `get_mut`, which never locks.
type Call = Mutex<Pin<Box<dyn Future<Output = ()> + Send>>>;

/// A streamed completion: `Delta`s (and possibly `Restarted`), then exactly one terminal item,
/// `Ok(StreamEvent::Done)` or `Err`, then the end of the stream. The call makes progress while
/// the stream is polled; dropping it cancels the call.
pub struct GatewayStream {
    /// `None` once the call has finished (its terminal item is then in `rx`).
    call: Option<Call>,
    rx: mpsc::Receiver<Item>,
}

impl GatewayStream {
    /// A stream over `call`, which sends its events into the channel `rx` reads.
    pub(crate) fn new(
        call: impl Future<Output = ()> + Send + 'static,
        rx: mpsc::Receiver<Item>,
    ) -> Self {
        Self {
            call: Some(Mutex::new(Box::pin(call))),
            rx,
        }
    }
}

#[cfg(test)]
impl GatewayStream {
    /// Events produced and not yet taken by the consumer.
    pub(crate) fn events_waiting(&self) -> usize {
        self.rx.len()
    }
}

impl std::fmt::Debug for GatewayStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayStream")
            .field("running", &self.call.is_some())
            .field("buffered", &self.rx.len())
            .finish()
    }
}

impl Stream for GatewayStream {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let this = &mut *self;
        if let Some(call) = &mut this.call {
            let call = call.get_mut().unwrap_or_else(PoisonError::into_inner);
            if call.as_mut().poll(cx).is_ready() {
                // Dropping the finished call drops its senders, so `rx` ends after the
                // terminal item.
                this.call = None;
            }
        }
        this.rx.poll_recv(cx)
    }
}

/// Where an attempt's deltas go: to the consumer when streaming, nowhere for `chat`.
pub(crate) struct Emitter {
    tx: Option<mpsc::Sender<Item>>,
    /// A failed attempt already showed text: send `Restarted` before the next delta.
    pending_restart: bool,
    /// The current attempt has sent at least one delta.
    pub(crate) emitted: bool,
    pub(crate) first_delta_at: Option<Instant>,
}

impl Emitter {
    pub(crate) fn unary() -> Self {
        Self {
            tx: None,
            pending_restart: false,
            emitted: false,
            first_delta_at: None,
        }
    }

    pub(crate) fn streaming(tx: mpsc::Sender<Item>) -> Self {
        Self {
            tx: Some(tx),
            ..Self::unary()
        }
    }

    pub(crate) fn is_streaming(&self) -> bool {
        self.tx.is_some()
    }

    /// The next attempt replaces the text shown so far.
    pub(crate) fn restart(&mut self) {
        self.pending_restart = true;
        self.emitted = false;
    }

    /// Sends one delta (after a pending `Restarted`). Fails only when the consumer is gone.
    pub(crate) async fn delta(&mut self, text: String) -> Result<(), GatewayError> {
        let Some(tx) = &self.tx else {
            return Ok(());
        };
        if self.pending_restart {
            self.pending_restart = false;
            tx.send(Ok(StreamEvent::Restarted))
                .await
                .map_err(|_| GatewayError::Cancelled)?;
        }
        self.emitted = true;
        self.first_delta_at.get_or_insert_with(Instant::now);
        tx.send(Ok(StreamEvent::Delta(text)))
            .await
            .map_err(|_| GatewayError::Cancelled)?;
        // Sending into a channel with room does not pause, so without this the call would
        // parse every chunk already buffered (often the whole answer) before the consumer
        // saw the first: the visitor would get the first token late, and all at once.
        HandOver::default().await;
        Ok(())
    }
}

/// Pauses the call once, without asking to be woken, so `poll_next` returns the delta just
/// sent. No wake is needed: the consumer polls again for the next item, and that poll resumes
/// the call. (Only sound because the call runs inside `poll_next`, which always checks the
/// channel after polling it, and the channel then holds at least the delta just sent.)
#[derive(Default)]
struct HandOver {
    paused: bool,
}

impl Future for HandOver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.paused {
            Poll::Ready(())
        } else {
            self.paused = true;
            Poll::Pending
        }
    }
}

//! The streaming side of a call: [`GatewayStream`], what `chat_stream` returns, and the
//! `Emitter` the call uses to feed it. The call runs in its own task and talks to the stream
//! through a small bounded channel, so a slow consumer slows the read from the provider
//! instead of buffering without bound, and a dropped stream cancels the provider request.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::error::GatewayError;
use super::types::StreamEvent;

pub(crate) type Item = Result<StreamEvent, GatewayError>;

/// Buffered events between the call task and the consumer.
pub(crate) const CHANNEL: usize = 64;

/// A streamed completion: `Delta`s (and possibly `Restarted`), then exactly one terminal item,
/// `Ok(StreamEvent::Done)` or `Err`, then the end of the stream. Dropping it cancels the call.
#[derive(Debug)]
pub struct GatewayStream {
    pub(crate) rx: mpsc::Receiver<Item>,
}

impl Stream for GatewayStream {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        self.rx.poll_recv(cx)
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
        // Sending into a channel with room does not yield, so without this the call task
        // would parse every chunk already buffered (often the whole answer) before the
        // consumer ran: the visitor would see the first token late, and all at once.
        tokio::task::yield_now().await;
        Ok(())
    }
}

//! Conversation operations shared by REST and WebSocket entry points: sending messages and
//! moving conversations through their life cycle. Every change goes through [`commit`]:
//! append to the log (with the status change, in one transaction), then publish — so an
//! event is only ever delivered after it is durable, and the request that committed it
//! delivers it (no background worker in the path).

pub mod bot;
pub mod lifecycle;
pub mod messages;
pub mod presence;

use kefu_core::ConversationId;
use kefu_store::{AppendOutcome, NewMessage, Transition};

use crate::error::ApiResult;
use crate::state::AppState;

/// Appends an entry (and applies `transition`), then publishes it if it is new.
pub async fn commit(
    state: &AppState,
    conversation: ConversationId,
    message: NewMessage,
    transition: Option<Transition>,
) -> ApiResult<AppendOutcome> {
    let outcome = state
        .store
        .append_message(conversation, message, transition)
        .await?;
    if let AppendOutcome::Created {
        message,
        conversation,
    } = &outcome
    {
        state.hub.publish_message(message, conversation);
    }
    Ok(outcome)
}

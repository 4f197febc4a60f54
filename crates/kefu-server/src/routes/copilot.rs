//! The agent copilot: for a conversation, the knowledge the assistant would use to answer the
//! visitor's latest message — FAQ answers ranked with confidence, internal entries included
//! (agents may use them), each with its citation — for the agent to insert, edit and send.

use axum::Json;
use axum::extract::State;
use kefu_core::ConversationId;
use kefu_core::domain::{AuthorKind, Citation};
use kefu_kb::Audience;
use serde::Serialize;

use crate::auth::AgentAuth;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiPath;
use crate::state::AppState;

/// One suggested reply.
#[derive(Serialize)]
pub struct Suggestion {
    pub text: String,
    pub confidence: f32,
    pub citation: Citation,
    /// Whether the source is internal (agents only: rephrase before sending).
    pub internal: bool,
}

/// Suggestions for the latest visitor message.
#[derive(Serialize)]
pub struct Suggestions {
    /// The visitor message the suggestions answer (none when the visitor has not written).
    pub question: Option<String>,
    pub question_seq: Option<i64>,
    pub suggestions: Vec<Suggestion>,
}

/// `GET /api/v1/conversations/{id}/suggestions`
pub async fn get_suggestions(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Suggestions>> {
    let conversation = state.store.get_conversation(id).await?;
    auth.require_site(&state, conversation.site_id)
        .await
        .map_err(|_| ApiError::not_found("conversation"))?;
    let recent = state
        .store
        .list_messages_before(id, i64::MAX, 20, false)
        .await?;
    let Some(question) = recent
        .items
        .iter()
        .rev()
        .find(|m| m.author_kind == AuthorKind::Visitor)
    else {
        return Ok(Json(Suggestions {
            question: None,
            question_seq: None,
            suggestions: Vec::new(),
        }));
    };
    let index = state
        .faq
        .get(conversation.site_id, Audience::Agent)
        .await
        .map_err(ApiError::internal)?;
    let mut suggestions = Vec::new();
    for c in index.rank(&question.text, 3) {
        let internal = state
            .store
            .get_kb_entry(c.entry_id)
            .await?
            .content
            .visibility
            == kefu_core::domain::Visibility::Internal;
        suggestions.push(Suggestion {
            internal,
            text: c.answer,
            confidence: c.confidence,
            citation: Citation {
                entry_id: c.entry_id,
                revision: c.revision,
                title: c.title,
                link: c.link,
            },
        });
    }
    Ok(Json(Suggestions {
        question: Some(question.text.clone()),
        question_seq: Some(question.seq),
        suggestions,
    }))
}

//! The agent copilot: for a conversation, the knowledge the assistant would use to answer the
//! visitor's latest message — FAQ answers ranked with confidence, internal entries included
//! (agents may use them), each with its citation — for the agent to insert, edit and send; and
//! a summary of the conversation for an agent taking over (by the site's language model when
//! it has one, else assembled from the conversation).

use axum::Json;
use axum::extract::State;
use kefu_core::ConversationId;
use kefu_core::domain::{AuthorKind, Citation, Generation};
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

/// A conversation summary.
#[derive(Serialize)]
pub struct Summary {
    pub summary: String,
    /// `model` or `offline` (no provider, or the provider failed).
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation: Option<Generation>,
}

/// Messages a summary reads (the newest; the model's budget trims further).
const SUMMARY_MESSAGES: u32 = 200;

/// `GET /api/v1/conversations/{id}/summary`
pub async fn get_summary(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Summary>> {
    let conversation = state.store.get_conversation(id).await?;
    auth.require_site(&state, conversation.site_id)
        .await
        .map_err(|_| ApiError::not_found("conversation"))?;
    let site = state.store.get_site(conversation.site_id).await?;
    let messages = state
        .store
        .list_messages_before(id, i64::MAX, SUMMARY_MESSAGES, false)
        .await?
        .items;
    let turns = crate::chat::bot::turns(&messages);
    let gateway = state.gateways.get(site.id).await?;
    if let Some(gateway) = gateway.filter(|_| !turns.is_empty()) {
        let mut request = kefu_ai::gateway::ChatRequest::new(site.id, Vec::new());
        request.visitor = Some(conversation.visitor_id);
        match kefu_ai::summary::model_summary(
            &gateway,
            request,
            &turns,
            site.settings.redact_provider_input,
        )
        .await
        {
            Ok((summary, r)) if !summary.is_empty() => {
                return Ok(Json(Summary {
                    summary,
                    source: "model",
                    generation: Some(Generation {
                        provider: r.provider,
                        model: r.model,
                        prompt_tokens: r.usage.prompt_tokens,
                        completion_tokens: r.usage.completion_tokens,
                        cache_hit: r.cache_hit,
                        ..Generation::default()
                    }),
                }));
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(conversation = %id, error = %e, "summary by the model failed; summarising offline")
            }
        }
    }
    Ok(Json(Summary {
        summary: kefu_ai::summary::offline_summary(&turns),
        source: "offline",
        generation: None,
    }))
}

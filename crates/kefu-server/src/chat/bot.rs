//! The assistant's turn: when a visitor writes in a conversation the bot holds, ask the answer
//! engine and post its reply — an answer citing the entry and revision it used, a
//! clarification, or a hand-off that moves the conversation to the human queue with its
//! reason. The bot only ever speaks while the conversation is in the `bot` state; the moment an
//! agent holds it, the bot is silent (the commit is guarded on the state).

use std::sync::Arc;

use kefu_ai::retrieval::{Candidate, RetrievalError, RetrievalFuture, Retriever};
use kefu_ai::{AnswerRequest, Thresholds};
use kefu_core::domain::{AnswerKind, AuthorKind, ConversationStatus, HandoffReason, Message};
use kefu_core::{ConversationId, SiteId};
use kefu_kb::{Audience, FaqIndexes};
use kefu_store::{AppendOutcome, NewMessage, Transition};

use super::{commit, lifecycle};
use crate::error::ApiResult;
use crate::state::AppState;

/// Retrieval for visitors over the site's FAQ index (published, public entries only).
pub struct KnowledgeRetriever(pub Arc<FaqIndexes>);

impl Retriever for KnowledgeRetriever {
    fn retrieve<'a>(&'a self, site: SiteId, question: &'a str, k: usize) -> RetrievalFuture<'a> {
        Box::pin(async move {
            let index = self
                .0
                .get(site, Audience::Visitor)
                .await
                .map_err(|e| RetrievalError(e.to_string()))?;
            Ok(index
                .rank(question, k)
                .into_iter()
                .map(|c| Candidate {
                    entry_id: c.entry_id,
                    revision: c.revision,
                    title: c.title,
                    question: c.question,
                    answer: c.answer,
                    link: c.link,
                    confidence: c.confidence,
                })
                .collect())
        })
    }
}

/// Answers `question` (the visitor message) in the background; errors are logged, since
/// the visitor's own message is already safely committed.
pub fn spawn_reply(state: &AppState, conversation: ConversationId, question: Message) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = reply(&state, conversation, &question).await {
            tracing::warn!(conversation = %conversation, error = %e.message, "assistant reply failed");
        }
    });
}

/// Whether the assistant's last word in this conversation, before `before_seq`, was a
/// clarification (so a second miss hands off instead of asking again).
async fn after_clarification(
    state: &AppState,
    id: ConversationId,
    before_seq: i64,
) -> ApiResult<bool> {
    let recent = state
        .store
        .list_messages_before(id, before_seq, 10, false)
        .await?;
    Ok(recent
        .items
        .iter()
        .rev()
        .find(|m| m.author_kind == AuthorKind::Bot)
        .is_some_and(|m| {
            m.answer
                .as_ref()
                .is_some_and(|a| a.kind == AnswerKind::Clarify)
        }))
}

async fn reply(state: &AppState, id: ConversationId, question: &Message) -> ApiResult<()> {
    let conversation = state.store.get_conversation(id).await?;
    if conversation.status != ConversationStatus::Bot {
        return Ok(());
    }
    let site = state.store.get_site(conversation.site_id).await?;
    let thresholds = Thresholds {
        answer: site.settings.answer_threshold,
        clarify: site.settings.clarify_threshold,
    };
    let after_clarification = after_clarification(state, id, question.seq).await?;
    let reply = state
        .answers
        .answer(AnswerRequest {
            site: site.id,
            question: &question.text,
            thresholds,
            after_clarification,
        })
        .await;
    let handoff = reply.hands_off();
    let confidence = reply.meta.confidence;
    let citations = reply.meta.citations.clone();
    let message = NewMessage {
        author_kind: Some(AuthorKind::Bot),
        author_name: Some(site.settings.widget_title.clone()),
        text: reply.text,
        // One reply per visitor message, even if this runs twice.
        client_id: Some(format!("bot:{}", question.id)),
        answer: Some(reply.meta),
        ..NewMessage::default()
    };
    // Guarded on the bot state: if an agent took over meanwhile, the bot stays silent.
    let guard = Transition {
        to: ConversationStatus::Bot,
        assignee: None,
        only_from: vec![ConversationStatus::Bot],
    };
    match commit(state, id, message, Some(guard)).await {
        Ok(AppendOutcome::Created { .. }) => {}
        Ok(AppendOutcome::Duplicate { .. }) => return Ok(()),
        Err(e) if e.code == "invalid_state" => return Ok(()),
        Err(e) => return Err(e),
    }
    for citation in &citations {
        state.store.record_kb_hit(citation.entry_id).await?;
    }
    if let Some(reason) = handoff {
        if reason != HandoffReason::HumanRequested {
            // The editors' to-do list; personal data never enters it.
            let question_text = kefu_ai::redact::redact(&question.text).text;
            state
                .store
                .record_unanswered(
                    site.id,
                    Some(id),
                    &question_text,
                    reason.as_str(),
                    f64::from(confidence),
                )
                .await?;
        }
        lifecycle::request_human(state, id, reason.as_str()).await?;
    }
    Ok(())
}

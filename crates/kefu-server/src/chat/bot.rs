//! The assistant's turn: when a visitor writes in a conversation the bot holds, ask the answer
//! engine and post its reply — an answer citing the entry and revision it used, a
//! clarification, or a hand-off that moves the conversation to the human queue with its
//! reason. The bot only ever speaks while the conversation is in the `bot` state; the moment an
//! agent holds it, the bot is silent (the commit is guarded on the state).

use std::sync::Arc;

use kefu_ai::retrieval::{Candidate, RetrievalError, RetrievalFuture, Retriever};
use kefu_ai::{AnswerRequest, AnswerUpdate, Policy, Speaker, Thresholds, Turn};
use kefu_core::domain::{
    AnswerKind, AuthorKind, ConversationStatus, HandoffReason, Message, SiteSettings,
};
use kefu_core::protocol::ServerFrame;
use kefu_core::{ConversationId, SiteId};
use kefu_kb::lexical_support::{content_terms, passage_confidence};
use kefu_kb::search::KbSearch;
use kefu_kb::{Audience, FaqIndexes};
use kefu_store::{AppendOutcome, NewMessage, Store, Transition};
use tokio::sync::mpsc;

use super::{commit, lifecycle};
use crate::error::ApiResult;
use crate::realtime::Topic;
use crate::state::AppState;

/// Earlier messages read for context (the token budget trims further).
const HISTORY_MESSAGES: u32 = 30;

/// Retrieval for visitors: FAQ entries from the site's trained matcher, and passages of other
/// entries (policies, docs, …) from the full-text index, both over published, public entries
/// only, merged by confidence.
pub struct KnowledgeRetriever {
    pub store: Store,
    pub faq: Arc<FaqIndexes>,
    pub search: Arc<KbSearch>,
    /// Cosine similarity where meaning alone starts to earn a passage confidence.
    pub min_similarity: f32,
}

/// Confidence from meaning alone: linear from `floor` (nothing) to a perfect match, capped a
/// little under a full lexical match, since a paraphrase can still miss a decisive detail.
fn semantic_confidence(similarity: Option<f32>, floor: f32) -> f32 {
    let Some(similarity) = similarity else {
        return 0.0;
    };
    if floor >= 1.0 {
        return 0.0;
    }
    (((similarity - floor) / (1.0 - floor)).clamp(0.0, 1.0) * 0.9).min(0.9)
}

impl KnowledgeRetriever {
    async fn passages(
        &self,
        site: SiteId,
        question: &str,
        k: usize,
    ) -> Result<Vec<Candidate>, RetrievalError> {
        let hits = self
            .search
            .search(&self.store, site, question, Audience::Visitor, k)
            .await
            .map_err(|e| RetrievalError(e.to_string()))?;
        let terms = content_terms(question);
        Ok(hits
            .into_iter()
            // FAQ entries are the matcher's job; their chunks would double-count them.
            .filter(|h| h.category != "faq")
            .filter_map(|h| {
                let heading = h.heading_path.join(" / ");
                let lexical =
                    passage_confidence(&terms, &format!("{} {heading} {}", h.title, h.text));
                let confidence =
                    lexical.max(semantic_confidence(h.vector_score, self.min_similarity));
                (confidence > 0.0).then(|| Candidate {
                    entry_id: h.entry_id,
                    revision: h.revision,
                    question: if heading.is_empty() {
                        h.title.clone()
                    } else {
                        heading
                    },
                    title: h.title,
                    answer: h.text,
                    link: h.link,
                    confidence,
                    category: h.category,
                })
            })
            .collect())
    }
}

impl Retriever for KnowledgeRetriever {
    fn retrieve<'a>(&'a self, site: SiteId, question: &'a str, k: usize) -> RetrievalFuture<'a> {
        Box::pin(async move {
            let index = self
                .faq
                .get(site, Audience::Visitor)
                .await
                .map_err(|e| RetrievalError(e.to_string()))?;
            let mut candidates: Vec<Candidate> = index
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
                    category: "faq".to_owned(),
                })
                .collect();
            candidates.extend(self.passages(site, question, k).await?);
            candidates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
            // One candidate per entry: several chunks of one document are one source.
            let mut seen = std::collections::HashSet::new();
            candidates.retain(|c| seen.insert(c.entry_id));
            candidates.truncate(k);
            Ok(candidates)
        })
    }
}

/// A site's answer and clarification thresholds.
pub fn thresholds(settings: &SiteSettings) -> Thresholds {
    Thresholds {
        answer: settings.answer_threshold,
        clarify: settings.clarify_threshold,
    }
}

/// A site's answering policy.
pub fn policy(settings: &SiteSettings) -> Policy<'_> {
    Policy {
        system_prompt: &settings.system_prompt,
        forbidden_topics: &settings.forbidden_topics,
        escalate_on_negative_sentiment: settings.escalate_on_negative_sentiment,
        redact_provider_input: settings.redact_provider_input,
        context_budget_tokens: settings.context_budget_tokens,
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

async fn reply(state: &AppState, id: ConversationId, question: &Message) -> ApiResult<()> {
    let conversation = state.store.get_conversation(id).await?;
    if conversation.status != ConversationStatus::Bot {
        return Ok(());
    }
    let site = state.store.get_site(conversation.site_id).await?;
    let visitor = state.store.get_visitor(conversation.visitor_id).await?;
    let earlier = state
        .store
        .list_messages_before(id, question.seq, HISTORY_MESSAGES, false)
        .await?
        .items;
    // Whether the assistant's last word was a clarification (a second miss hands off).
    let after_clarification = earlier
        .iter()
        .rev()
        .find(|m| m.author_kind == AuthorKind::Bot)
        .is_some_and(|m| {
            m.answer
                .as_ref()
                .is_some_and(|a| a.kind == AnswerKind::Clarify)
        });
    let history = turns(&earlier);
    let gateway = match state.gateways.get(site.id).await {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(site = %site.id, error = %e, "loading the provider chain failed; answering offline");
            None
        }
    };
    let settings = &site.settings;

    // Show that the assistant is working, then stream its text as it comes.
    publish_bot_typing(state, id, true);
    let (updates, mut rx) = mpsc::unbounded_channel::<AnswerUpdate>();
    let forward = {
        let state = state.clone();
        let reply_to = question.id;
        tokio::spawn(async move {
            while let Some(update) = rx.recv().await {
                let (text, reset) = match update {
                    AnswerUpdate::Delta(t) => (t, false),
                    AnswerUpdate::Reset => (String::new(), true),
                };
                state.hub.publish(
                    Topic::Conversation(id),
                    ServerFrame::AnswerDelta {
                        conversation_id: id,
                        reply_to,
                        text,
                        reset,
                    },
                );
            }
        })
    };
    let reply = state
        .answers
        .answer(
            AnswerRequest {
                site: site.id,
                visitor: Some(visitor.id),
                question: &question.text,
                thresholds: thresholds(settings),
                after_clarification,
                history: &history,
                policy: policy(settings),
                language: visitor.language.as_deref(),
                llm: gateway.as_ref(),
            },
            Some(&updates),
        )
        .await;
    drop(updates);
    // Every delta is out before the committed message, so clients never see them reordered.
    let _ = forward.await;
    publish_bot_typing(state, id, false);

    state
        .store
        .classify_message(site.id, id, question.id, &reply.classification)
        .await?;
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
        Err(e) if e.code == "invalid_state" => {
            // Withdraw what was streamed: a person holds the conversation now.
            state.hub.publish(
                Topic::Conversation(id),
                ServerFrame::AnswerDelta {
                    conversation_id: id,
                    reply_to: question.id,
                    text: String::new(),
                    reset: true,
                },
            );
            return Ok(());
        }
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

/// The conversation as the assistant sees it: what visitor, assistant and agents said (no
/// system entries, no private notes).
pub fn turns(messages: &[Message]) -> Vec<Turn> {
    messages
        .iter()
        .filter(|m| m.event.is_none() && !m.private && !m.text.trim().is_empty())
        .filter_map(|m| {
            let speaker = match m.author_kind {
                AuthorKind::Visitor => Speaker::Visitor,
                AuthorKind::Bot => Speaker::Assistant,
                AuthorKind::Agent => Speaker::Agent,
                AuthorKind::System => return None,
            };
            Some(Turn::new(speaker, m.text.clone()))
        })
        .collect()
}

fn publish_bot_typing(state: &AppState, id: ConversationId, typing: bool) {
    state.hub.publish(
        Topic::Conversation(id),
        ServerFrame::Typing {
            conversation_id: id,
            author_kind: AuthorKind::Bot,
            author_id: None,
            author_name: None,
            typing,
        },
    );
}

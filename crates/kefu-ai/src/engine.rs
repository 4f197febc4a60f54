//! The answer engine's decision for one visitor question:
//!
//! 1. classify the message (intent from the closest entry's category, sentiment);
//! 2. a request for a person always wins → hand off (`human_requested`); a forbidden topic
//!    (`sensitive_topic`) or, when the site asks for it, a clearly negative message
//!    (`negative_sentiment`) also goes to a person;
//! 3. a follow-up ("what about the premium plan?") is made standalone from the previous
//!    question (by the model when configured, else by joining), and retrieval keeps whichever
//!    of the message and its standalone form finds the more confident match;
//! 4. retrieve published, public knowledge (through [`Retriever`]);
//! 5. with a language model: generate a grounded, cited answer from the passages that clear the
//!    clarify bar, streaming deltas; the model may decline (`NO_ANSWER`), which counts as not
//!    confident; a provider failure falls back to the offline answer when that is confident,
//!    else hands off (`provider_error`);
//! 6. offline (no model): confident (top ≥ the answer threshold) → the entry's own text with a
//!    citation of the exact revision; unsure but close (≥ the clarify threshold) → offer the
//!    closest questions, once; unsure again right after a clarification → hand off
//!    (`repeated_failure`); otherwise hand off (`low_confidence`, or `no_knowledge`).
//!
//! Retrieval failure hands off rather than guess. The engine writes no text of its own beyond
//! short framing sentences, and the model only sees redacted text (unless a site turns that
//! off).

use std::sync::Arc;

use kefu_core::domain::{
    AnswerKind, AnswerMeta, Citation, Classification, Generation, HandoffReason, Sentiment,
};
use kefu_core::{SiteId, VisitorId};
use tokio::sync::mpsc::UnboundedSender;

use crate::context::{Speaker, Turn, fit_history};
use crate::followup::{join_with_previous, looks_like_follow_up, rewrite_with_model};
use crate::gateway::{CacheKey, ChatRequest, Gateway};
use crate::generate::{AnswerUpdate, Generated, PromptSettings, generate, grounded_messages};
use crate::human_request::is_human_request;
use crate::language::is_chinese;
use crate::redact::redact;
use crate::retrieval::{Candidate, Retriever};
use crate::sentiment::sentiment;

/// How many candidates retrieval returns, how many a clarification offers, and how many
/// passages a prompt carries.
const CANDIDATES: usize = 5;
const SUGGESTIONS: usize = 3;
const PASSAGES: usize = 4;
/// Room for the answer itself.
const MAX_ANSWER_TOKENS: u32 = 600;

/// A site's confidence bars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Answer at or above this confidence.
    pub answer: f32,
    /// Offer suggestions at or above this (and below `answer`).
    pub clarify: f32,
}

/// A site's rules for the assistant (from its settings).
#[derive(Clone, Copy, Debug)]
pub struct Policy<'a> {
    pub system_prompt: &'a str,
    pub forbidden_topics: &'a [String],
    pub escalate_on_negative_sentiment: bool,
    pub redact_provider_input: bool,
    pub context_budget_tokens: u32,
}

impl Default for Policy<'_> {
    fn default() -> Self {
        Self {
            system_prompt: "",
            forbidden_topics: &[],
            escalate_on_negative_sentiment: false,
            redact_provider_input: true,
            context_budget_tokens: 1500,
        }
    }
}

/// One question to decide on.
#[derive(Clone, Debug)]
pub struct AnswerRequest<'a> {
    pub site: SiteId,
    pub visitor: Option<VisitorId>,
    pub question: &'a str,
    pub thresholds: Thresholds,
    /// The assistant's previous message in this conversation was a clarification.
    pub after_clarification: bool,
    /// Earlier messages of the conversation, oldest first (the question excluded).
    pub history: &'a [Turn],
    pub policy: Policy<'a>,
    /// The visitor's preferred language, when known.
    pub language: Option<&'a str>,
    /// The site's provider chain; `None` runs the offline answerer.
    pub llm: Option<&'a Gateway>,
}

/// What the assistant says, the metadata stored with it, and what it read into the question.
#[derive(Clone, Debug, PartialEq)]
pub struct BotReply {
    pub text: String,
    pub meta: AnswerMeta,
    pub classification: Classification,
}

impl BotReply {
    /// Whether the conversation should go to a human now.
    pub fn hands_off(&self) -> Option<HandoffReason> {
        match self.meta.kind {
            AnswerKind::Handoff => self.meta.reason,
            _ => None,
        }
    }
}

/// Decides replies; cheap to clone.
#[derive(Clone)]
pub struct AnswerEngine {
    retriever: Arc<dyn Retriever>,
}

impl AnswerEngine {
    /// An engine over a retriever.
    pub fn new(retriever: Arc<dyn Retriever>) -> Self {
        Self { retriever }
    }

    /// The retriever answers come from (evaluation reads its ranking).
    pub fn retriever(&self) -> &Arc<dyn Retriever> {
        &self.retriever
    }

    /// Decides the reply to one question; a model's text streams to `updates` as it comes.
    pub async fn answer(
        &self,
        req: AnswerRequest<'_>,
        updates: Option<&UnboundedSender<AnswerUpdate>>,
    ) -> BotReply {
        let chinese = is_chinese(req.question);
        let tone = sentiment(req.question);
        let classify = |candidates: &[Candidate]| Classification {
            intent: candidates
                .first()
                .filter(|c| c.confidence >= req.thresholds.clarify)
                .map_or_else(|| "unknown".to_owned(), |c| c.category.clone()),
            sentiment: tone,
        };

        if is_human_request(req.question) {
            return handoff(chinese, HandoffReason::HumanRequested, 0.0).with(classify(&[]));
        }
        let lower = req.question.to_lowercase();
        if req
            .policy
            .forbidden_topics
            .iter()
            .any(|t| lower.contains(&t.trim().to_lowercase()))
        {
            return handoff(chinese, HandoffReason::SensitiveTopic, 0.0).with(classify(&[]));
        }

        let (candidates, standalone) = match self.retrieve(&req).await {
            Ok(found) => found,
            Err(e) => {
                // Fail safe: without knowledge the only honest move is a person.
                tracing::warn!(site = %req.site, error = %e, "retrieval failed; handing off");
                return handoff(chinese, HandoffReason::NoKnowledge, 0.0).with(classify(&[]));
            }
        };
        let classification = classify(&candidates);
        if tone == Sentiment::Negative && req.policy.escalate_on_negative_sentiment {
            let confidence = candidates.first().map_or(0.0, |c| c.confidence);
            return handoff(chinese, HandoffReason::NegativeSentiment, confidence)
                .with(classification);
        }
        let mut reply = match req.llm {
            Some(gateway) => {
                self.generated(&req, gateway, &candidates, standalone.as_deref(), updates)
                    .await
            }
            None => offline(&req, chinese, &candidates),
        };
        reply.meta.standalone_question = standalone;
        reply.with(classification)
    }

    /// Candidates for the question, or for its standalone form when that is more confident.
    async fn retrieve(
        &self,
        req: &AnswerRequest<'_>,
    ) -> Result<(Vec<Candidate>, Option<String>), crate::RetrievalError> {
        let direct = self
            .retriever
            .retrieve(req.site, req.question, CANDIDATES)
            .await?;
        let previous = req
            .history
            .iter()
            .rev()
            .find(|t| t.speaker == Speaker::Visitor);
        let Some(previous) = previous.filter(|_| looks_like_follow_up(req.question)) else {
            return Ok((direct, None));
        };
        let rewritten = match req.llm {
            Some(gateway) => {
                let turns = req
                    .history
                    .iter()
                    .rev()
                    .take(4)
                    .rev()
                    .map(|t| {
                        let who = match t.speaker {
                            Speaker::Visitor => "Visitor",
                            _ => "Support",
                        };
                        format!("{who}: {}", self.provider_text(req, &t.text))
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                let question = self.provider_text(req, req.question);
                let request = self.chat_request(req, Vec::new());
                rewrite_with_model(gateway, request, &turns, &question).await
            }
            None => None,
        };
        let standalone =
            rewritten.unwrap_or_else(|| join_with_previous(&previous.text, req.question));
        let joined = self
            .retriever
            .retrieve(req.site, &standalone, CANDIDATES)
            .await?;
        let best = |c: &[Candidate]| c.first().map_or(0.0, |c| c.confidence);
        if best(&joined) > best(&direct) {
            Ok((joined, Some(standalone)))
        } else {
            Ok((direct, None))
        }
    }

    fn provider_text(&self, req: &AnswerRequest<'_>, text: &str) -> String {
        if req.policy.redact_provider_input {
            redact(text).text
        } else {
            text.to_owned()
        }
    }

    fn chat_request(
        &self,
        req: &AnswerRequest<'_>,
        messages: Vec<crate::gateway::ChatMessage>,
    ) -> ChatRequest {
        let mut request = ChatRequest::new(req.site, messages);
        request.visitor = req.visitor;
        request
    }

    /// The LLM answerer (step 5).
    async fn generated(
        &self,
        req: &AnswerRequest<'_>,
        gateway: &Gateway,
        candidates: &[Candidate],
        standalone: Option<&str>,
        updates: Option<&UnboundedSender<AnswerUpdate>>,
    ) -> BotReply {
        let chinese = is_chinese(req.question);
        let passages: Vec<Candidate> = candidates
            .iter()
            .filter(|c| c.confidence >= req.thresholds.clarify)
            .take(PASSAGES)
            .cloned()
            .collect();
        if passages.is_empty() {
            // Nothing close enough to ground an answer: the model is not asked to improvise.
            return offline(req, chinese, candidates);
        }
        let history = fit_history(
            req.history,
            req.policy.context_budget_tokens,
            req.policy.redact_provider_input,
        );
        let question = self.provider_text(req, req.question);
        let messages = grounded_messages(
            PromptSettings {
                system_prompt: req.policy.system_prompt,
                forbidden_topics: req.policy.forbidden_topics,
                language: req.language,
            },
            &passages,
            &history,
            &question,
        );
        let mut request = self.chat_request(req, messages);
        request.max_tokens = Some(MAX_ANSWER_TOKENS);
        request.temperature = Some(0.2);
        // Only a conversation without earlier turns is cacheable: with history, the same words
        // can mean something else.
        if history.messages.is_empty() && history.dropped == 0 {
            let key_question = self.provider_text(req, standalone.unwrap_or(req.question));
            request.cache_key = Some(
                CacheKey::new(
                    &key_question,
                    passages.iter().map(|p| (p.entry_id, p.revision)),
                )
                .with_context(format!(
                    "{}|{}|{}",
                    req.language.unwrap_or(""),
                    req.policy.system_prompt,
                    req.policy.forbidden_topics.join(";")
                )),
            );
        }
        let top = candidates.first().map_or(0.0, |c| c.confidence);
        let cache_key = request.cache_key.clone();
        match generate(gateway, request, passages.len(), updates).await {
            Ok(Generated::Answer {
                text,
                cited,
                response,
            }) => {
                let cited: Vec<&Candidate> = if cited.is_empty() {
                    // The model used the passages without saying which: the best one is the
                    // honest minimum to show.
                    passages.iter().take(1).collect()
                } else {
                    cited.iter().filter_map(|&i| passages.get(i)).collect()
                };
                BotReply {
                    text,
                    meta: AnswerMeta {
                        kind: AnswerKind::Answer,
                        confidence: top,
                        citations: cited.into_iter().map(citation).collect(),
                        reason: None,
                        suggestions: Vec::new(),
                        standalone_question: None,
                        generation: Some(generation(&response, req, &history)),
                    },
                    classification: neutral(),
                }
            }
            Ok(Generated::NoAnswer { response }) => {
                // A refusal is not an answer worth repeating: the next visitor asking may
                // meet better knowledge or a better-behaved model.
                if let Some(key) = &cache_key {
                    gateway.forget_cached(req.site, key);
                }
                let mut reply = unsure(req, chinese, candidates, top);
                reply.meta.generation = Some(generation(&response, req, &history));
                reply
            }
            Err(e) => {
                tracing::warn!(site = %req.site, error = %e, "provider failed");
                if top >= req.thresholds.answer {
                    if let Some(tx) = updates {
                        let _ = tx.send(AnswerUpdate::Reset);
                    }
                    offline(req, chinese, candidates)
                } else {
                    if let Some(tx) = updates {
                        let _ = tx.send(AnswerUpdate::Reset);
                    }
                    handoff(chinese, HandoffReason::ProviderError, top)
                }
            }
        }
    }
}

impl BotReply {
    fn with(mut self, classification: Classification) -> Self {
        self.classification = classification;
        self
    }
}

fn neutral() -> Classification {
    Classification {
        intent: "unknown".to_owned(),
        sentiment: Sentiment::Neutral,
    }
}

fn generation(
    response: &crate::gateway::ChatResponse,
    req: &AnswerRequest<'_>,
    history: &crate::context::ContextWindow,
) -> Generation {
    Generation {
        provider: response.provider.clone(),
        model: response.model.clone(),
        prompt_tokens: response.usage.prompt_tokens,
        completion_tokens: response.usage.completion_tokens,
        cache_hit: response.cache_hit,
        context_budget_tokens: req.policy.context_budget_tokens,
        context_tokens: history.tokens,
        context_dropped_messages: history.dropped,
    }
}

/// The offline answerer (step 6).
fn offline(req: &AnswerRequest<'_>, chinese: bool, candidates: &[Candidate]) -> BotReply {
    let Some(top) = candidates.first() else {
        return handoff(chinese, HandoffReason::NoKnowledge, 0.0);
    };
    if top.confidence >= req.thresholds.answer {
        return answer(top);
    }
    unsure(req, chinese, candidates, top.confidence)
}

/// Not confident: clarify once, then hand off.
fn unsure(req: &AnswerRequest<'_>, chinese: bool, candidates: &[Candidate], top: f32) -> BotReply {
    if candidates.is_empty() {
        return handoff(chinese, HandoffReason::NoKnowledge, 0.0);
    }
    if req.after_clarification {
        return handoff(chinese, HandoffReason::RepeatedFailure, top);
    }
    if top >= req.thresholds.clarify {
        return clarify(chinese, candidates, req.thresholds.clarify);
    }
    handoff(chinese, HandoffReason::LowConfidence, top)
}

fn citation(c: &Candidate) -> Citation {
    Citation {
        entry_id: c.entry_id,
        revision: c.revision,
        title: c.title.clone(),
        link: c.link.clone(),
    }
}

fn answer(top: &Candidate) -> BotReply {
    BotReply {
        text: top.answer.clone(),
        meta: AnswerMeta {
            kind: AnswerKind::Answer,
            confidence: top.confidence,
            citations: vec![citation(top)],
            reason: None,
            suggestions: Vec::new(),
            standalone_question: None,
            generation: None,
        },
        classification: neutral(),
    }
}

fn clarify(chinese: bool, candidates: &[Candidate], floor: f32) -> BotReply {
    // Offer the close ones only; a suggestion far below the bar would mislead.
    let suggestions: Vec<String> = candidates
        .iter()
        .filter(|c| c.confidence >= floor / 2.0)
        .take(SUGGESTIONS)
        .map(|c| c.question.clone())
        .collect();
    let intro = if chinese {
        "我不太确定您的意思。您是想问："
    } else {
        "I'm not sure I understood. Did you mean:"
    };
    let mut text = String::from(intro);
    for (i, s) in suggestions.iter().enumerate() {
        text.push_str(&format!("\n{}. {s}", i + 1));
    }
    text.push_str(if chinese {
        "\n也可以换个说法，或者回复“人工”联系客服。"
    } else {
        "\nYou can also rephrase, or ask for a person."
    });
    BotReply {
        text,
        meta: AnswerMeta {
            kind: AnswerKind::Clarify,
            confidence: candidates.first().map_or(0.0, |c| c.confidence),
            citations: Vec::new(),
            reason: None,
            suggestions,
            standalone_question: None,
            generation: None,
        },
        classification: neutral(),
    }
}

fn handoff(chinese: bool, reason: HandoffReason, confidence: f32) -> BotReply {
    let text = match (chinese, reason) {
        (true, HandoffReason::HumanRequested) => "好的，正在为您转接人工客服。",
        (true, _) => "这个问题我没有把握回答，正在为您转接人工客服。",
        (false, HandoffReason::HumanRequested) => {
            "Sure, I'm connecting you with a member of our team."
        }
        (false, _) => {
            "I don't have a reliable answer to that, so I'm connecting you with a member of our team."
        }
    };
    BotReply {
        text: text.to_owned(),
        meta: AnswerMeta {
            kind: AnswerKind::Handoff,
            confidence,
            citations: Vec::new(),
            reason: Some(reason),
            suggestions: Vec::new(),
            standalone_question: None,
            generation: None,
        },
        classification: neutral(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retrieval::{RetrievalError, RetrievalFuture};
    use kefu_core::KbEntryId;

    /// A retriever over a fixed candidate list, scored by the test.
    struct Fixed(Result<Vec<Candidate>, String>);

    impl Retriever for Fixed {
        fn retrieve<'a>(&'a self, _: SiteId, _: &'a str, _: usize) -> RetrievalFuture<'a> {
            let out = self.0.clone().map_err(RetrievalError);
            Box::pin(async move { out })
        }
    }

    fn candidate(question: &str, confidence: f32) -> Candidate {
        Candidate {
            entry_id: KbEntryId::new(),
            revision: 4,
            title: question.into(),
            question: question.into(),
            answer: format!("answer to {question}"),
            link: None,
            confidence,
            category: "faq".into(),
        }
    }

    fn engine(result: Result<Vec<Candidate>, String>) -> AnswerEngine {
        AnswerEngine::new(Arc::new(Fixed(result)))
    }

    fn req(question: &str, after_clarification: bool) -> AnswerRequest<'_> {
        AnswerRequest {
            site: SiteId::new(),
            visitor: None,
            question,
            thresholds: Thresholds {
                answer: 0.45,
                clarify: 0.2,
            },
            after_clarification,
            history: &[],
            policy: Policy::default(),
            language: None,
            llm: None,
        }
    }

    /// Scores candidates by how many of the query's words they contain, so a follow-up
    /// joined with its previous question finds more.
    struct Overlap(Vec<Candidate>);

    impl Retriever for Overlap {
        fn retrieve<'a>(&'a self, _: SiteId, q: &'a str, _: usize) -> RetrievalFuture<'a> {
            let q = q.to_lowercase();
            let mut out: Vec<Candidate> = self
                .0
                .iter()
                .map(|c| {
                    let words = c.question.to_lowercase();
                    let hits = words.split_whitespace().filter(|w| q.contains(w)).count();
                    Candidate {
                        confidence: hits as f32 / words.split_whitespace().count() as f32,
                        ..c.clone()
                    }
                })
                .filter(|c| c.confidence > 0.0)
                .collect();
            out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
            Box::pin(async move { Ok(out) })
        }
    }

    #[tokio::test]
    async fn a_follow_up_is_answered_from_its_standalone_form() {
        let mut entry = candidate("refund gift card", 0.0);
        entry.category = "policy".into();
        let engine = AnswerEngine::new(Arc::new(Overlap(vec![entry.clone()])));
        let history = [
            Turn::new(Speaker::Visitor, "can I get a refund"),
            Turn::new(Speaker::Assistant, "Which purchase?"),
        ];
        let mut request = req("what about a gift card?", false);
        request.history = &history;
        let reply = engine.answer(request, None).await;
        assert_eq!(reply.meta.kind, AnswerKind::Answer);
        assert_eq!(reply.meta.citations[0].entry_id, entry.entry_id);
        assert_eq!(
            reply.meta.standalone_question.as_deref(),
            Some("can I get a refund what about a gift card?")
        );
        assert_eq!(reply.classification.intent, "policy");
    }

    #[tokio::test]
    async fn forbidden_topics_and_negative_sentiment_go_to_people() {
        let topics = vec!["Lawsuit".to_owned()];
        let mut request = req("I will file a lawsuit about my refund", false);
        request.policy.forbidden_topics = &topics;
        let reply = engine(Ok(vec![candidate("refund", 0.99)]))
            .answer(request, None)
            .await;
        assert_eq!(reply.hands_off(), Some(HandoffReason::SensitiveTopic));

        let angry = "this refund process is useless, worst service ever";
        let calm = engine(Ok(vec![candidate("refund", 0.99)]))
            .answer(req(angry, false), None)
            .await;
        assert_eq!(calm.meta.kind, AnswerKind::Answer, "escalation is opt-in");
        assert_eq!(calm.classification.sentiment, Sentiment::Negative);
        let mut request = req(angry, false);
        request.policy.escalate_on_negative_sentiment = true;
        let escalated = engine(Ok(vec![candidate("refund", 0.99)]))
            .answer(request, None)
            .await;
        assert_eq!(
            escalated.hands_off(),
            Some(HandoffReason::NegativeSentiment)
        );
    }

    #[tokio::test]
    async fn confident_match_answers_with_a_citation_of_the_revision() {
        let top = candidate("How do refunds work?", 0.9);
        let reply = engine(Ok(vec![top.clone()]))
            .answer(req("refund?", false), None)
            .await;
        assert_eq!(reply.meta.kind, AnswerKind::Answer);
        assert_eq!(reply.text, top.answer);
        assert_eq!(reply.meta.citations[0].entry_id, top.entry_id);
        assert_eq!(reply.meta.citations[0].revision, 4);
        assert!(reply.hands_off().is_none());
    }

    #[tokio::test]
    async fn a_human_request_wins_even_over_a_confident_match() {
        let reply = engine(Ok(vec![candidate("refund", 0.99)]))
            .answer(req("退款 转人工", false), None)
            .await;
        assert_eq!(reply.hands_off(), Some(HandoffReason::HumanRequested));
        assert!(reply.text.contains("人工"));
    }

    #[tokio::test]
    async fn unsure_asks_once_then_hands_off() {
        let cands = vec![
            candidate("refund", 0.3),
            candidate("return", 0.25),
            candidate("far", 0.01),
        ];
        let first = engine(Ok(cands.clone()))
            .answer(req("money?", false), None)
            .await;
        assert_eq!(first.meta.kind, AnswerKind::Clarify);
        assert_eq!(first.meta.suggestions, vec!["refund", "return"]);
        let second = engine(Ok(cands)).answer(req("money??", true), None).await;
        assert_eq!(second.hands_off(), Some(HandoffReason::RepeatedFailure));
    }

    #[tokio::test]
    async fn nothing_close_or_failure_hands_off() {
        let low = engine(Ok(vec![candidate("x", 0.05)]))
            .answer(req("weather", false), None)
            .await;
        assert_eq!(low.hands_off(), Some(HandoffReason::LowConfidence));
        let none = engine(Ok(vec![]))
            .answer(req("天气怎么样", false), None)
            .await;
        assert_eq!(none.hands_off(), Some(HandoffReason::NoKnowledge));
        assert!(
            none.text.contains("人工"),
            "replies in the visitor's language"
        );
        let failed = engine(Err("index gone".into()))
            .answer(req("x", false), None)
            .await;
        assert!(failed.hands_off().is_some());
    }
}

//! The answer engine's decision for one visitor question:
//!
//! 1. a request for a person always wins → hand off (`human_requested`);
//! 2. retrieve published, public knowledge (through [`Retriever`]);
//! 3. confident (top confidence ≥ the site's answer threshold) → answer with that entry's text
//!    and a citation naming the entry and the exact revision;
//! 4. unsure but something is close (≥ the clarify threshold) → offer the closest questions,
//!    once; unsure again right after a clarification → hand off (`repeated_failure`);
//! 5. otherwise hand off (`low_confidence`, or `no_knowledge` when nothing matched); a retrieval
//!    failure also hands off rather than guess.
//!
//! This is the offline answerer: it never writes text of its own beyond these short framing
//! sentences, so it cannot invent facts. The LLM answerer will plug in at step 3.

use std::sync::Arc;

use kefu_core::SiteId;
use kefu_core::domain::{AnswerKind, AnswerMeta, Citation, HandoffReason};

use crate::human_request::is_human_request;
use crate::language::is_chinese;
use crate::retrieval::{Candidate, Retriever};

/// How many candidates retrieval returns, and how many a clarification offers.
const CANDIDATES: usize = 5;
const SUGGESTIONS: usize = 3;

/// A site's confidence bars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Answer at or above this confidence.
    pub answer: f32,
    /// Offer suggestions at or above this (and below `answer`).
    pub clarify: f32,
}

/// One question to decide on.
#[derive(Clone, Debug)]
pub struct AnswerRequest<'a> {
    pub site: SiteId,
    pub question: &'a str,
    pub thresholds: Thresholds,
    /// The assistant's previous message in this conversation was a clarification.
    pub after_clarification: bool,
}

/// What the assistant says, and the metadata stored with it.
#[derive(Clone, Debug, PartialEq)]
pub struct BotReply {
    pub text: String,
    pub meta: AnswerMeta,
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

    /// Decides the reply to one question.
    pub async fn answer(&self, req: AnswerRequest<'_>) -> BotReply {
        let chinese = is_chinese(req.question);
        if is_human_request(req.question) {
            return handoff(chinese, HandoffReason::HumanRequested, 0.0);
        }
        let candidates = match self
            .retriever
            .retrieve(req.site, req.question, CANDIDATES)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                // Fail safe: without knowledge the only honest move is a person.
                tracing::warn!(site = %req.site, error = %e, "retrieval failed; handing off");
                return handoff(chinese, HandoffReason::NoKnowledge, 0.0);
            }
        };
        let Some(top) = candidates.first() else {
            return handoff(chinese, HandoffReason::NoKnowledge, 0.0);
        };
        if top.confidence >= req.thresholds.answer {
            return answer(top);
        }
        if req.after_clarification {
            return handoff(chinese, HandoffReason::RepeatedFailure, top.confidence);
        }
        if top.confidence >= req.thresholds.clarify {
            return clarify(chinese, &candidates, req.thresholds.clarify);
        }
        handoff(chinese, HandoffReason::LowConfidence, top.confidence)
    }
}

fn answer(top: &Candidate) -> BotReply {
    BotReply {
        text: top.answer.clone(),
        meta: AnswerMeta {
            kind: AnswerKind::Answer,
            confidence: top.confidence,
            citations: vec![Citation {
                entry_id: top.entry_id,
                revision: top.revision,
                title: top.title.clone(),
                link: top.link.clone(),
            }],
            reason: None,
            suggestions: Vec::new(),
        },
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
        },
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
        },
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
        }
    }

    fn engine(result: Result<Vec<Candidate>, String>) -> AnswerEngine {
        AnswerEngine::new(Arc::new(Fixed(result)))
    }

    fn req(question: &str, after_clarification: bool) -> AnswerRequest<'_> {
        AnswerRequest {
            site: SiteId::new(),
            question,
            thresholds: Thresholds {
                answer: 0.45,
                clarify: 0.2,
            },
            after_clarification,
        }
    }

    #[tokio::test]
    async fn confident_match_answers_with_a_citation_of_the_revision() {
        let top = candidate("How do refunds work?", 0.9);
        let reply = engine(Ok(vec![top.clone()]))
            .answer(req("refund?", false))
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
            .answer(req("退款 转人工", false))
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
        let first = engine(Ok(cands.clone())).answer(req("money?", false)).await;
        assert_eq!(first.meta.kind, AnswerKind::Clarify);
        assert_eq!(first.meta.suggestions, vec!["refund", "return"]);
        let second = engine(Ok(cands)).answer(req("money??", true)).await;
        assert_eq!(second.hands_off(), Some(HandoffReason::RepeatedFailure));
    }

    #[tokio::test]
    async fn nothing_close_or_failure_hands_off() {
        let low = engine(Ok(vec![candidate("x", 0.05)]))
            .answer(req("weather", false))
            .await;
        assert_eq!(low.hands_off(), Some(HandoffReason::LowConfidence));
        let none = engine(Ok(vec![])).answer(req("天气怎么样", false)).await;
        assert_eq!(none.hands_off(), Some(HandoffReason::NoKnowledge));
        assert!(
            none.text.contains("人工"),
            "replies in the visitor's language"
        );
        let failed = engine(Err("index gone".into()))
            .answer(req("x", false))
            .await;
        assert!(failed.hands_off().is_some());
    }
}

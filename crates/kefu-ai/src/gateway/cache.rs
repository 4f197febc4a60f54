//! The answer cache: bounded, in memory, with a TTL. An entry is keyed by the site, the
//! normalised question and the exact set of (entry id, revision) pairs the prompt was grounded
//! on, so publishing a new revision of any cited entry changes the key and the old answer is
//! never served again (it just ages out).
//!
//! Only use a key when the answer depends on nothing else (a first question, not a follow-up
//! whose meaning depends on history); [`CacheKey::with_context`] folds in anything else that
//! shapes the answer, such as the site's prompt version or the reply language.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use kefu_core::{KbEntryId, SiteId};
use tokio::time::Instant;

use super::config::CacheConfig;
use super::types::ChatResponse;

/// What makes two answers interchangeable.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    question: String,
    citations: Vec<(KbEntryId, i64)>,
    context: String,
}

impl CacheKey {
    /// A key from the (standalone, redacted) question and the citations the prompt used, in
    /// any order.
    pub fn new(question: &str, citations: impl IntoIterator<Item = (KbEntryId, i64)>) -> Self {
        let mut citations: Vec<(KbEntryId, i64)> = citations.into_iter().collect();
        citations.sort_unstable();
        citations.dedup();
        Self {
            question: normalise_question(question),
            citations,
            context: String::new(),
        }
    }

    /// Adds whatever else changes the answer (prompt version, language, model tier).
    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context = context.into();
        self
    }

    /// The normalised question.
    pub fn question(&self) -> &str {
        &self.question
    }
}

/// Folds the differences that do not change a question's meaning: case, full-width ASCII
/// (common from Chinese keyboards), runs of whitespace, and trailing punctuation
/// ("How do refunds work?" = "how do  refunds work" = "ＨＯＷ do refunds work？").
pub fn normalise_question(question: &str) -> String {
    let mut out = String::with_capacity(question.len());
    let mut pending_space = false;
    for c in question.chars() {
        let c = match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            0x3000 => ' ',
            _ => c,
        };
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    let trimmed_len = out
        .trim_end_matches(|c: char| {
            c.is_whitespace()
                || matches!(c, '?' | '!' | '.' | '。' | '？' | '！' | '~' | '～' | '…')
        })
        .len();
    out.truncate(trimmed_len);
    out
}

type Key = (SiteId, CacheKey);

struct Inner {
    map: HashMap<Key, (Instant, ChatResponse)>,
    /// Insertion order, for evicting the oldest when full.
    order: VecDeque<Key>,
}

pub(crate) struct ResponseCache {
    config: CacheConfig,
    inner: Mutex<Inner>,
}

impl ResponseCache {
    pub(crate) fn new(config: CacheConfig) -> Self {
        Self {
            config,
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub(crate) fn get(&self, site: SiteId, key: &CacheKey) -> Option<ChatResponse> {
        if self.config.capacity == 0 {
            return None;
        }
        let mut inner = self.lock();
        let k = (site, key.clone());
        match inner.map.get(&k) {
            Some((at, resp)) if at.elapsed() < self.config.ttl => Some(resp.clone()),
            Some(_) => {
                inner.map.remove(&k);
                None
            }
            None => None,
        }
    }

    pub(crate) fn insert(&self, site: SiteId, key: CacheKey, response: ChatResponse) {
        if self.config.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        let k = (site, key);
        if let Some(slot) = inner.map.get_mut(&k) {
            *slot = (Instant::now(), response);
            return;
        }
        while inner.map.len() >= self.config.capacity {
            match inner.order.pop_front() {
                Some(old) => {
                    inner.map.remove(&old);
                }
                None => break,
            }
        }
        inner.order.push_back(k.clone());
        inner.map.insert(k, (Instant::now(), response));
        // Expired entries leave keys behind in `order`; compact so it stays bounded.
        if inner.order.len() > self.config.capacity.saturating_mul(2) {
            let Inner { map, order } = &mut *inner;
            order.retain(|k| map.contains_key(k));
        }
    }

    /// Drops one answer (the caller judged it unfit to repeat, e.g. the model declined).
    pub(crate) fn remove(&self, site: SiteId, key: &CacheKey) {
        self.lock().map.remove(&(site, key.clone()));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::types::{FinishReason, Usage};
    use std::time::Duration;

    fn response(text: &str) -> ChatResponse {
        ChatResponse {
            content: text.into(),
            finish_reason: FinishReason::Stop,
            usage: Usage::default(),
            provider: "p".into(),
            model: "m".into(),
            cost_micros: 0,
            attempts: 1,
            cache_hit: false,
            latency: Duration::ZERO,
            first_token_latency: None,
        }
    }

    #[test]
    fn normalisation_folds_case_width_space_and_trailing_punctuation() {
        assert_eq!(
            normalise_question("  How do   Refunds work?? "),
            "how do refunds work"
        );
        assert_eq!(
            normalise_question("ＨＯＷ do refunds work？"),
            "how do refunds work"
        );
        assert_eq!(normalise_question("怎么退款。"), "怎么退款");
        assert_ne!(
            normalise_question("refund a"),
            normalise_question("refund b")
        );
    }

    #[test]
    fn citation_order_does_not_matter_but_revisions_do() {
        let (a, b) = (KbEntryId::new(), KbEntryId::new());
        assert_eq!(
            CacheKey::new("q", [(a, 1), (b, 2)]),
            CacheKey::new("Q?", [(b, 2), (a, 1)])
        );
        assert_ne!(CacheKey::new("q", [(a, 1)]), CacheKey::new("q", [(a, 2)]));
    }

    #[tokio::test(start_paused = true)]
    async fn entries_expire_and_capacity_evicts_the_oldest() {
        let cache = ResponseCache::new(CacheConfig {
            capacity: 2,
            ttl: Duration::from_secs(60),
        });
        let site = SiteId::new();
        let key = |q: &str| CacheKey::new(q, []);
        cache.insert(site, key("a"), response("A"));
        cache.insert(site, key("b"), response("B"));
        cache.insert(site, key("c"), response("C"));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(site, &key("a")).is_none(), "oldest evicted");
        assert_eq!(cache.get(site, &key("c")).unwrap().content, "C");
        assert!(cache.get(SiteId::new(), &key("c")).is_none(), "per site");
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(cache.get(site, &key("c")).is_none(), "expired");
    }
}

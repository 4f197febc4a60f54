//! A site's FAQ index: the offline matcher trained on the phrasings (question plus
//! alternatives) of the FAQ entries one audience may see, and the cache that keeps one trained
//! index per site and audience until the site's knowledge changes.
//!
//! The audience is decided when the index is built, not filtered afterwards: the visitor index
//! is trained only on published, public entries, so an internal entry cannot surface in a
//! visitor-facing answer however the ranking behaves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kefu_core::domain::{EntryStatus, KbEntry};
use kefu_core::{KbEntryId, SiteId};
use kefu_store::Store;
use tokio::sync::OnceCell;

use crate::faq_matcher::{FaqExample, FaqMatcher, MatcherConfig, MatcherError};
use crate::lexical_support::{content_terms, supports};
use crate::lexicon::SynonymRewriter;

/// Who the answers are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Website visitors: published, public entries only.
    Visitor,
    /// Agents (copilot): published entries, internal ones included.
    Agent,
}

impl Audience {
    fn admits(self, entry: &KbEntry) -> bool {
        let c = &entry.content;
        match self {
            Audience::Visitor => c.answers_visitors(),
            Audience::Agent => c.status == EntryStatus::Published,
        }
    }
}

/// An FAQ entry ranked for a question.
#[derive(Clone, Debug, PartialEq)]
pub struct FaqCandidate {
    pub entry_id: KbEntryId,
    /// The revision whose answer this is.
    pub revision: i64,
    pub title: String,
    pub question: String,
    pub answer: String,
    /// The entry's source when it is a web address.
    pub link: Option<String>,
    /// Calibrated confidence, 0–1 (see the matcher).
    pub confidence: f32,
    pub score: f32,
}

struct EntryRef {
    id: KbEntryId,
    revision: i64,
    title: String,
    question: String,
    answer: String,
    link: Option<String>,
    /// Content terms of all its phrasings (see `lexical_support`).
    terms: std::collections::HashSet<String>,
}

/// The trained matcher for one site and audience.
pub struct SiteFaqIndex {
    matcher: FaqMatcher,
    entries: HashMap<String, EntryRef>,
    /// The site's synonyms, folded to one phrase per group in training and in questions.
    synonyms: SynonymRewriter,
}

impl SiteFaqIndex {
    /// Trains on the FAQ entries `audience` may see.
    pub fn build(
        entries: &[KbEntry],
        audience: Audience,
        config: &MatcherConfig,
    ) -> Result<Self, MatcherError> {
        Self::build_with_synonyms(entries, audience, config, SynonymRewriter::default())
    }

    /// [`SiteFaqIndex::build`] with the site's synonym groups applied to every phrasing and
    /// later to every question.
    pub fn build_with_synonyms(
        entries: &[KbEntry],
        audience: Audience,
        config: &MatcherConfig,
        synonyms: SynonymRewriter,
    ) -> Result<Self, MatcherError> {
        let mut examples = Vec::new();
        let mut refs = HashMap::new();
        for entry in entries.iter().filter(|e| audience.admits(e)) {
            let Some(faq) = &entry.content.faq else {
                continue;
            };
            let key = entry.id.to_string();
            let question = synonyms.rewrite(&faq.question);
            let mut terms = content_terms(&question);
            examples.push(FaqExample::new(key.clone(), question));
            for alternative in &faq.alternatives {
                let alternative = synonyms.rewrite(alternative);
                terms.extend(content_terms(&alternative));
                examples.push(FaqExample::new(key.clone(), alternative));
            }
            let link = entry
                .content
                .source
                .clone()
                .filter(|s| s.starts_with("https://") || s.starts_with("http://"));
            refs.insert(
                key,
                EntryRef {
                    id: entry.id,
                    revision: entry.revision,
                    title: entry.content.title.clone(),
                    question: faq.question.clone(),
                    answer: faq.answer.clone(),
                    link,
                    terms,
                },
            );
        }
        Ok(Self {
            matcher: FaqMatcher::train(&examples, config)?,
            entries: refs,
            synonyms,
        })
    }

    /// The best `k` entries for a question, best first. Entries sharing no content term with
    /// the question are left out (see `lexical_support`): they cannot ground an answer.
    pub fn rank(&self, question: &str, k: usize) -> Vec<FaqCandidate> {
        let question = self.synonyms.rewrite(question);
        let question_terms = content_terms(&question);
        self.matcher
            .rank(&question, k)
            .into_iter()
            .filter_map(|m| {
                let e = self.entries.get(&m.entry_id)?;
                if !supports(&question_terms, &e.terms) {
                    return None;
                }
                Some(FaqCandidate {
                    entry_id: e.id,
                    revision: e.revision,
                    title: e.title.clone(),
                    question: e.question.clone(),
                    answer: e.answer.clone(),
                    link: e.link.clone(),
                    confidence: m.confidence,
                    score: m.score,
                })
            })
            .collect()
    }

    /// Number of FAQ entries indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no FAQ entry is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Why an index could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FaqIndexError {
    #[error(transparent)]
    Store(#[from] kefu_store::StoreError),
    #[error(transparent)]
    Matcher(#[from] MatcherError),
    #[error("training was interrupted: {0}")]
    Join(String),
}

type Slot = Arc<OnceCell<Arc<SiteFaqIndex>>>;

/// One trained index per (site, audience), built on first use and dropped when the site's
/// knowledge changes. Concurrent first uses share one training run.
pub struct FaqIndexes {
    store: Store,
    config: MatcherConfig,
    slots: Mutex<HashMap<(SiteId, Audience), Slot>>,
}

impl FaqIndexes {
    /// An empty cache over `store`.
    pub fn new(store: Store, config: MatcherConfig) -> Self {
        Self {
            store,
            config,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The index for a site and audience, training it if needed (off the async workers).
    pub async fn get(
        &self,
        site: SiteId,
        audience: Audience,
    ) -> Result<Arc<SiteFaqIndex>, FaqIndexError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.entry((site, audience)).or_default().clone()
        };
        let index = slot
            .get_or_try_init(|| async {
                let entries = self.store.list_site_kb_entries(site).await?;
                let synonyms = SynonymRewriter::new(&self.store.get_kb_lexicon(site).await?);
                let config = self.config.clone();
                let index = tokio::task::spawn_blocking(move || {
                    SiteFaqIndex::build_with_synonyms(&entries, audience, &config, synonyms)
                })
                .await
                .map_err(|e| FaqIndexError::Join(e.to_string()))??;
                Ok::<_, FaqIndexError>(Arc::new(index))
            })
            .await?;
        Ok(index.clone())
    }

    /// Forgets a site's indexes; the next question retrains on the current knowledge (and
    /// synonyms).
    pub fn invalidate(&self, site: SiteId) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|(s, _), _| *s != site);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_core::Timestamp;
    use kefu_core::domain::{EntryContent, Faq, Visibility};

    fn entry(question: &str, answer: &str, visibility: Visibility, status: EntryStatus) -> KbEntry {
        KbEntry {
            id: KbEntryId::new(),
            site_id: SiteId::new(),
            revision: 3,
            content: EntryContent {
                category: "faq".into(),
                title: question.into(),
                body: String::new(),
                language: None,
                source: Some("https://help.example/refunds".into()),
                visibility,
                status,
                faq: Some(Faq {
                    question: question.into(),
                    alternatives: vec![],
                    answer: answer.into(),
                }),
                review_due: None,
                owner_id: None,
            },
            hit_count: 0,
            thumbs_up: 0,
            thumbs_down: 0,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
            updated_by: None,
        }
    }

    #[test]
    fn visitors_never_see_internal_or_unpublished_entries() {
        let entries = vec![
            entry(
                "How do I get a refund?",
                "Within 30 days.",
                Visibility::Public,
                EntryStatus::Published,
            ),
            entry(
                "How do I override a refund limit?",
                "Ask finance.",
                Visibility::Internal,
                EntryStatus::Published,
            ),
            entry(
                "How do I cancel my order?",
                "Draft answer",
                Visibility::Public,
                EntryStatus::Draft,
            ),
        ];
        let visitor =
            SiteFaqIndex::build(&entries, Audience::Visitor, &MatcherConfig::default()).unwrap();
        assert_eq!(visitor.len(), 1);
        for q in ["override a refund limit", "cancel my order", "refund"] {
            assert!(
                visitor
                    .rank(q, 5)
                    .iter()
                    .all(|c| c.entry_id == entries[0].id),
                "{q}"
            );
        }
        let agent =
            SiteFaqIndex::build(&entries, Audience::Agent, &MatcherConfig::default()).unwrap();
        assert_eq!(agent.len(), 2);
        let top = &agent.rank("override a refund limit", 1)[0];
        assert_eq!(top.entry_id, entries[1].id);
        assert_eq!(top.revision, 3);
        assert_eq!(top.link.as_deref(), Some("https://help.example/refunds"));
    }

    #[test]
    fn site_synonyms_let_either_form_match_the_faq() {
        let entries = vec![
            entry(
                "蚂蚁花呗怎么还款",
                "在支付宝首页点击花呗还款。",
                Visibility::Public,
                EntryStatus::Published,
            ),
            entry(
                "How do I track my parcel?",
                "Use the tracking link in your e-mail.",
                Visibility::Public,
                EntryStatus::Published,
            ),
        ];
        let lexicon = kefu_core::domain::KbLexicon {
            words: vec![],
            synonyms: vec![vec!["借呗".into(), "蚂蚁花呗".into()]],
        };
        let plain =
            SiteFaqIndex::build(&entries, Audience::Visitor, &MatcherConfig::default()).unwrap();
        let before = plain
            .rank("借呗怎么还款", 1)
            .first()
            .map_or(0.0, |c| c.confidence);
        let with = SiteFaqIndex::build_with_synonyms(
            &entries,
            Audience::Visitor,
            &MatcherConfig::default(),
            SynonymRewriter::new(&lexicon),
        )
        .unwrap();
        let top = &with.rank("借呗怎么还款", 1)[0];
        assert_eq!(top.entry_id, entries[0].id);
        // Read as 蚂蚁花呗, the question is the FAQ's own wording: more confident than before.
        assert!(top.confidence > before, "{} vs {before}", top.confidence);
        assert_eq!(
            top.question, "蚂蚁花呗怎么还款",
            "shown as written, not rewritten"
        );
    }
}

//! Knowledge-base entries and their immutable revisions. Every change to an entry writes a
//! new revision holding the full content, so an answer that cites (entry, revision) can always
//! be shown with the exact text it used, and history, diff and rollback need nothing else.

use serde::{Deserialize, Serialize};

use super::text_enum;
use crate::validate::ValidationError;
use crate::{AgentId, KbEntryId, SiteId, Timestamp};

/// Built-in categories; sites may add their own (lowercase slugs).
pub const BUILT_IN_CATEGORIES: &[&str] = &["product", "faq", "case", "policy", "tech_doc", "news"];

text_enum!(
    /// Who an entry may be shown to.
    Visibility {
        /// May be used to answer visitors.
        Public => "public",
        /// Agents only: never reaches a visitor-facing answer.
        Internal => "internal",
    }
);

text_enum!(
    /// An entry's editorial state. Only published entries answer anyone.
    EntryStatus {
        Draft => "draft",
        Published => "published",
        Archived => "archived",
    }
);

/// The question-and-answer part of an FAQ entry.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Faq {
    pub question: String,
    /// Other ways visitors ask the same thing.
    #[serde(default)]
    pub alternatives: Vec<String>,
    pub answer: String,
}

/// Everything a revision fixes about an entry.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EntryContent {
    /// `product`, `faq`, `case`, `policy`, `tech_doc`, `news`, or a site's own slug.
    pub category: String,
    pub title: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
    /// BCP 47 tag such as `zh-CN` or `en`, when known.
    #[serde(default)]
    pub language: Option<String>,
    /// File name or URL it came from.
    #[serde(default)]
    pub source: Option<String>,
    pub visibility: Visibility,
    pub status: EntryStatus,
    /// Present for FAQ entries.
    #[serde(default)]
    pub faq: Option<Faq>,
    /// When someone should check it is still true (RFC 3339).
    #[serde(default)]
    pub review_due: Option<Timestamp>,
    /// The agent responsible for it.
    #[serde(default)]
    pub owner_id: Option<AgentId>,
}

impl EntryContent {
    /// Checks the content and normalises whitespace and the category.
    pub fn validated(mut self) -> Result<Self, ValidationError> {
        self.category = self.category.trim().to_lowercase();
        let slug_ok = !self.category.is_empty()
            && self.category.len() <= 40
            && self
                .category
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        if !slug_ok {
            return Err(ValidationError::invalid(
                "category",
                "one word such as faq, policy, my_category or 账户",
            ));
        }
        self.title = crate::validate::short_text("title", &self.title, 300)?;
        if self.body.chars().count() > 200_000 {
            return Err(ValidationError::invalid(
                "body",
                "at most 200,000 characters",
            ));
        }
        if let Some(faq) = &mut self.faq {
            faq.question = crate::validate::short_text("faq.question", &faq.question, 1000)?;
            if faq.answer.trim().is_empty() {
                return Err(ValidationError::invalid("faq.answer", "must not be empty"));
            }
            faq.answer = faq.answer.trim().to_owned();
            faq.alternatives = faq
                .alternatives
                .iter()
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect();
            if faq.alternatives.len() > 200 {
                return Err(ValidationError::invalid("faq.alternatives", "at most 200"));
            }
        } else if self.body.trim().is_empty() {
            return Err(ValidationError::invalid(
                "body",
                "an entry needs a body or an faq",
            ));
        }
        Ok(self)
    }

    /// Whether this content may answer visitors.
    pub fn answers_visitors(&self) -> bool {
        self.visibility == Visibility::Public && self.status == EntryStatus::Published
    }
}

/// An entry at its current revision.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KbEntry {
    pub id: KbEntryId,
    pub site_id: SiteId,
    /// The current revision number (1 for a new entry).
    pub revision: i64,
    #[serde(flatten)]
    pub content: EntryContent,
    /// Times an answer cited it.
    pub hit_count: i64,
    /// Visitors' ratings of answers citing it.
    pub thumbs_up: i64,
    pub thumbs_down: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub updated_by: Option<AgentId>,
}

/// One immutable revision.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KbRevision {
    pub entry_id: KbEntryId,
    pub revision: i64,
    pub content: EntryContent,
    pub author_id: Option<AgentId>,
    /// Why it changed ("rollback to 3", "import handbook.pdf"…).
    pub note: Option<String>,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> EntryContent {
        EntryContent {
            category: " FAQ ".into(),
            title: "Refunds".into(),
            body: String::new(),
            language: Some("en".into()),
            source: None,
            visibility: Visibility::Public,
            status: EntryStatus::Published,
            faq: Some(Faq {
                question: "How do I get a refund?".into(),
                alternatives: vec!["  money back? ".into(), " ".into()],
                answer: "Within 30 days.".into(),
            }),
            review_due: None,
            owner_id: None,
        }
    }

    #[test]
    fn validation_normalises_and_refuses_bad_content() {
        let c = content().validated().unwrap();
        assert_eq!(c.category, "faq");
        assert_eq!(c.faq.as_ref().unwrap().alternatives, vec!["money back?"]);
        assert!(c.answers_visitors());
        let mut bad = content();
        bad.category = "Not a slug!".into();
        assert!(bad.validated().is_err());
        let mut empty = content();
        empty.faq = None;
        assert!(empty.validated().is_err(), "no body and no faq");
    }

    #[test]
    fn internal_or_draft_never_answers_visitors() {
        let mut c = content();
        c.visibility = Visibility::Internal;
        assert!(!c.answers_visitors());
        let mut d = content();
        d.status = EntryStatus::Draft;
        assert!(!d.answers_visitors());
    }
}

//! Search filters shared by full-text and vector search.
//!
//! Filters are security boundaries (site isolation, internal entries, drafts), so they are part
//! of every query and are applied while matching, never by trimming a result list afterwards.
//! Empty visibility or status sets match **nothing**: forgetting to say what a caller may see
//! must fail closed.

use serde::{Deserialize, Serialize};

use crate::chunk::{ChunkMeta, Status, Visibility};

/// Which chunks a search may return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Only chunks of this site.
    pub site_id: String,
    /// Only these categories; empty means any category.
    pub categories: Vec<String>,
    /// Only these visibilities; empty means nothing matches.
    pub visibilities: Vec<Visibility>,
    /// Only these statuses; empty means nothing matches.
    pub statuses: Vec<Status>,
    /// Only this language; `None` means any.
    pub language: Option<String>,
}

impl Filter {
    /// What a visitor (and the assistant answering one) may see: public, published chunks.
    pub fn visitor(site_id: impl Into<String>) -> Self {
        Filter {
            site_id: site_id.into(),
            categories: Vec::new(),
            visibilities: vec![Visibility::Public],
            statuses: vec![Status::Published],
            language: None,
        }
    }

    /// What an agent may see: public and internal, published chunks.
    pub fn agent(site_id: impl Into<String>) -> Self {
        Filter {
            visibilities: vec![Visibility::Public, Visibility::Internal],
            ..Filter::visitor(site_id)
        }
    }

    /// Narrows to the given categories (builder style).
    pub fn with_categories<I, S>(mut self, categories: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.categories = categories.into_iter().map(Into::into).collect();
        self
    }

    /// Narrows to one language (builder style).
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Replaces the allowed statuses (builder style), e.g. drafts for an editor's preview.
    pub fn with_statuses(mut self, statuses: impl Into<Vec<Status>>) -> Self {
        self.statuses = statuses.into();
        self
    }

    /// Replaces the allowed visibilities (builder style).
    pub fn with_visibilities(mut self, visibilities: impl Into<Vec<Visibility>>) -> Self {
        self.visibilities = visibilities.into();
        self
    }

    /// Whether a chunk passes the filter (used by the vector index; the text index compiles
    /// the same rules into its query).
    pub fn matches(&self, meta: &ChunkMeta) -> bool {
        meta.site_id == self.site_id
            && self.visibilities.contains(&meta.visibility)
            && self.statuses.contains(&meta.status)
            && (self.categories.is_empty() || self.categories.contains(&meta.category))
            && self.language.as_ref().is_none_or(|l| *l == meta.language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(visibility: Visibility, status: Status) -> ChunkMeta {
        ChunkMeta {
            chunk_id: "c".into(),
            entry_id: "e".into(),
            revision: 1,
            site_id: "s1".into(),
            category: "billing".into(),
            language: "zh".into(),
            visibility,
            status,
        }
    }

    #[test]
    fn visitor_sees_only_public_published() {
        let f = Filter::visitor("s1");
        assert!(f.matches(&meta(Visibility::Public, Status::Published)));
        assert!(!f.matches(&meta(Visibility::Internal, Status::Published)));
        assert!(!f.matches(&meta(Visibility::Public, Status::Draft)));
        assert!(!f.matches(&meta(Visibility::Public, Status::Archived)));
        assert!(!Filter::visitor("s2").matches(&meta(Visibility::Public, Status::Published)));
    }

    #[test]
    fn empty_sets_fail_closed_and_narrowing_works() {
        let m = meta(Visibility::Public, Status::Published);
        assert!(!Filter::visitor("s1").with_visibilities(vec![]).matches(&m));
        assert!(!Filter::visitor("s1").with_statuses(vec![]).matches(&m));
        assert!(
            Filter::visitor("s1")
                .with_categories(["billing"])
                .matches(&m)
        );
        assert!(
            !Filter::visitor("s1")
                .with_categories(["shipping"])
                .matches(&m)
        );
        assert!(Filter::visitor("s1").with_language("zh").matches(&m));
        assert!(!Filter::visitor("s1").with_language("en").matches(&m));
    }
}

//! Per-site vocabulary in search and FAQ matching.
//!
//! All sites share one full-text index, so its segmentation dictionary is the *pool* of every
//! site's custom words. That costs a site nothing: jieba's search mode still emits the
//! dictionary sub-words of a custom word (蚂蚁花呗 also yields 蚂蚁), so adding a word only
//! adds a whole-word term. Changing the pool re-segments the index, done by a rebuild from the
//! database ([`KbSearch::lexicon_changed`]). Synonyms are per site and applied to the query,
//! so they take effect at once: each site gets the index's analyser with its own synonym
//! groups ([`kefu_search::Analyzer::with_synonyms`]), cached until its lexicon changes.
//!
//! The FAQ matcher learns from words, not from the index, so synonyms reach it by rewriting:
//! [`SynonymRewriter`] replaces every member of a group by the group's first phrase, in the
//! training phrasings and in each question alike.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use kefu_core::SiteId;
use kefu_core::domain::KbLexicon;
use kefu_search::{Analyzer, Lexicon};
use kefu_store::Store;

use crate::search::{KbSearch, KbSearchError};

/// The search crate's form of a site lexicon.
pub fn search_lexicon(lexicon: &KbLexicon) -> Lexicon {
    Lexicon {
        words: lexicon.words.clone(),
        synonyms: lexicon.synonyms.clone(),
    }
}

/// The index's dictionary: every site's custom words, no synonyms.
pub async fn pooled_words(store: &Store) -> Result<Lexicon, kefu_store::StoreError> {
    let words: BTreeSet<String> = store
        .list_kb_lexicons()
        .await?
        .into_iter()
        .flat_map(|(_, l)| l.words)
        .collect();
    Ok(Lexicon {
        words: words.into_iter().collect(),
        synonyms: Vec::new(),
    })
}

/// Each site's query analyser (index dictionary + the site's synonyms), built on first use.
#[derive(Default)]
pub struct SiteAnalyzers {
    cache: Mutex<HashMap<SiteId, Analyzer>>,
}

impl SiteAnalyzers {
    /// Forgets one site's analyser (its lexicon changed).
    pub fn invalidate(&self, site: SiteId) {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&site);
    }

    /// The analyser a site's queries use; `base` is the index's current analyser. An entry
    /// cached before the dictionary changed is rebuilt.
    pub async fn get(
        &self,
        store: &Store,
        site: SiteId,
        base: &Analyzer,
    ) -> Result<Analyzer, kefu_store::StoreError> {
        if let Some(cached) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&site)
            .filter(|a| a.same_dictionary(base))
        {
            return Ok(cached.clone());
        }
        let lexicon = store.get_kb_lexicon(site).await?;
        let analyzer = base.with_synonyms(&lexicon.synonyms);
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(site, analyzer.clone());
        Ok(analyzer)
    }
}

impl KbSearch {
    /// After a site's lexicon was saved: its synonyms apply from the next query, and the
    /// index switches to the new pool of custom words. Returns whether the words changed, in
    /// which case the caller must [`KbSearch::rebuild`] (in the background: searches keep
    /// working meanwhile, a new word still found by its sub-words in the old segmentation;
    /// a crash before the rebuild ends is caught at the next start by the index marker).
    pub async fn lexicon_changed(
        &self,
        store: &Store,
        site: SiteId,
    ) -> Result<bool, KbSearchError> {
        self.site_analyzers().invalidate(site);
        let pooled = pooled_words(store).await?;
        Ok(self.chunk_index().set_lexicon(&pooled))
    }

    /// Whether the index still waits for a rebuild (after a change of custom words).
    pub fn index_is_stale(&self) -> bool {
        self.chunk_index().is_stale()
    }
}

/// Rewrites synonyms to one canonical phrase per group (the group's first), so the FAQ
/// matcher sees one word where visitors and editors use several.
#[derive(Clone, Debug, Default)]
pub struct SynonymRewriter {
    /// (lower-cased phrase, canonical), longest phrase first so 蚂蚁花呗 wins over 花呗.
    phrases: Vec<(Vec<char>, String)>,
}

impl SynonymRewriter {
    /// A rewriter for a site's synonym groups.
    pub fn new(lexicon: &KbLexicon) -> Self {
        let mut phrases: Vec<(Vec<char>, String)> = Vec::new();
        for group in &lexicon.synonyms {
            let Some(canonical) = group.first() else {
                continue;
            };
            let canonical = canonical.to_lowercase();
            for member in group {
                let chars: Vec<char> = member.to_lowercase().chars().collect();
                if !chars.is_empty() && !phrases.iter().any(|(p, _)| *p == chars) {
                    phrases.push((chars, canonical.clone()));
                }
            }
        }
        phrases.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        Self { phrases }
    }

    /// Whether there is nothing to rewrite.
    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// `text` lower-cased with every synonym replaced by its canonical phrase, in one pass
    /// (a replacement is never rewritten again). Phrases in spaced scripts match whole words
    /// only ("ai" not inside "email").
    pub fn rewrite(&self, text: &str) -> String {
        if self.phrases.is_empty() {
            return text.to_owned();
        }
        let chars: Vec<char> = text.to_lowercase().chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        'scan: while i < chars.len() {
            for (phrase, canonical) in &self.phrases {
                let end = i + phrase.len();
                if end <= chars.len()
                    && chars[i..end] == phrase[..]
                    && boundaries_ok(&chars, i, end)
                {
                    out.push_str(canonical);
                    i = end;
                    continue 'scan;
                }
            }
            out.push(chars[i]);
            i += 1;
        }
        out
    }
}

/// A match of a word character that sits against another word character of a spaced script
/// is inside a word; CJK needs no boundary.
fn boundaries_ok(chars: &[char], start: usize, end: usize) -> bool {
    let spaced = |c: char| c.is_alphanumeric() && !crate::text_normalise::is_cjk(c);
    let starts_inside = start > 0 && spaced(chars[start - 1]) && spaced(chars[start]);
    let ends_inside = end < chars.len() && spaced(chars[end - 1]) && spaced(chars[end]);
    !starts_inside && !ends_inside
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewriter() -> SynonymRewriter {
        SynonymRewriter::new(&KbLexicon {
            words: vec![],
            synonyms: vec![
                vec!["花呗".into(), "蚂蚁花呗".into()],
                vec!["refund".into(), "money back".into()],
                vec!["ai".into(), "assistant".into()],
            ],
        })
    }

    #[test]
    fn rewrites_every_member_to_the_first_longest_first() {
        let r = rewriter();
        assert_eq!(r.rewrite("蚂蚁花呗怎么还款"), "花呗怎么还款");
        assert_eq!(r.rewrite("花呗怎么还款"), "花呗怎么还款");
        assert_eq!(r.rewrite("I want my Money Back"), "i want my refund");
    }

    #[test]
    fn spaced_phrases_match_whole_words_only() {
        let r = rewriter();
        assert_eq!(r.rewrite("email the assistant"), "email the ai");
        assert_eq!(r.rewrite("said"), "said");
    }
}

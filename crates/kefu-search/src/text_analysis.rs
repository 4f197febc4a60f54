//! Text analysis for mixed Chinese/English knowledge-base text: word segmentation, case folding,
//! English stemming, per-site custom words and query-time synonym expansion.
//!
//! Chinese has no spaces, so recall depends on segmentation. We run jieba in *search mode*: a
//! long word such as 上海交通大学 is emitted whole **and** as its dictionary sub-words (上海,
//! 交通, 大学), so a visitor who types 交通大学 still finds it. Jieba also passes Latin runs
//! through as words, which are then lower-cased and stemmed ("Refunds" → "refund").
//!
//! A site's vocabulary lives in a [`Lexicon`] value (loaded from the database or config), never
//! in code. Custom words change how text is *indexed*, so changing them requires a re-index (the
//! index records the words it was built with and reports itself stale); synonyms are applied
//! only at query time, so they can change at any moment.
//!
//! Why not `tantivy_jieba::JiebaTokenizer`: it owns its `Jieba` by value, and tantivy clones a
//! tokenizer for every query and for every field of every segment writer, which would copy the
//! whole dictionary (tens of MB) each time. [`Analyzer`] shares one `Arc<Jieba>` per lexicon
//! instead, and the built-in dictionary is parsed once per process.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use jieba_rs::Jieba;
use serde::{Deserialize, Serialize};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// Tokens longer than this many bytes are dropped: they are base64 blobs or URLs, not words,
/// and tantivy rejects terms beyond 65 KB anyway.
const MAX_TOKEN_BYTES: usize = 64;

/// A site's search vocabulary: extra dictionary words and synonym groups.
///
/// Serializable so it can be stored per site and edited by an admin without code changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lexicon {
    /// Words the segmenter must keep whole (product names, schools, slang): 蚂蚁花呗.
    #[serde(default)]
    pub words: Vec<String>,
    /// Groups of interchangeable phrases: a query containing any member also searches for the
    /// others. Members may be single words ("花呗") or several words ("money back").
    #[serde(default)]
    pub synonyms: Vec<Vec<String>>,
}

impl Lexicon {
    /// An empty lexicon: the built-in dictionary only, no synonyms.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a custom dictionary word (builder style).
    pub fn with_word(mut self, word: impl Into<String>) -> Self {
        self.words.push(word.into());
        self
    }

    /// Adds a synonym group (builder style).
    pub fn with_synonyms<I, S>(mut self, group: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.synonyms
            .push(group.into_iter().map(Into::into).collect());
        self
    }

    /// The custom words, trimmed, de-duplicated and sorted: the part of the lexicon that
    /// affects indexing, so the index can tell whether it was built with the same words.
    pub fn dictionary_fingerprint(&self) -> Vec<String> {
        self.words
            .iter()
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

/// The analysed form of a search query: the terms to look up, and the synonym alternatives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalyzedQuery {
    /// Distinct analysed terms of the query text itself, in first-seen order.
    pub terms: Vec<String>,
    /// Synonym alternatives triggered by the query; each is the analysed term list of one
    /// phrase, all of whose terms must occur for the alternative to match.
    pub alternatives: Vec<Vec<String>>,
}

impl AnalyzedQuery {
    /// Every distinct term the query may match on (query terms, then synonym terms).
    pub fn all_terms(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for term in self.terms.iter().chain(self.alternatives.iter().flatten()) {
            if seen.insert(term.as_str()) {
                out.push(term.clone());
            }
        }
        out
    }

    /// True when there is nothing to search for (empty or punctuation-only query).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.alternatives.is_empty()
    }
}

/// A synonym group pre-analysed once, so queries only compare term lists.
#[derive(Debug, Clone)]
struct SynonymGroup {
    /// Lower-cased raw phrases, for substring detection in the raw query (robust to
    /// segmentation that splits a phrase differently inside a sentence).
    raw: Vec<String>,
    /// Analysed terms of each phrase, same order as `raw`.
    analysed: Vec<Vec<String>>,
}

/// The analyser for one lexicon: produces tantivy analysers for indexing and expands queries.
///
/// Cheap to clone (the segmenter is shared).
#[derive(Clone)]
pub struct Analyzer {
    jieba: Arc<Jieba>,
    lexicon: Lexicon,
    synonyms: Vec<SynonymGroup>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("lexicon", &self.lexicon)
            .finish_non_exhaustive()
    }
}

/// The built-in dictionary, parsed once per process; lexicons clone it and add their words,
/// so one site's words never leak into another site's segmentation.
fn base_jieba() -> &'static Jieba {
    static BASE: OnceLock<Jieba> = OnceLock::new();
    BASE.get_or_init(Jieba::new)
}

impl Analyzer {
    /// Builds an analyser with the built-in dictionary plus the lexicon's words.
    ///
    /// Costs a copy of the dictionary (a few MB, some milliseconds): build one per site or
    /// index and share it, not one per query.
    pub fn new(lexicon: &Lexicon) -> Self {
        let mut jieba = base_jieba().clone();
        for word in lexicon.dictionary_fingerprint() {
            // No explicit frequency: jieba suggests one just high enough to keep the word whole.
            jieba.add_word(&word, None, None);
        }
        let analyzer = Analyzer {
            jieba: Arc::new(jieba),
            lexicon: Lexicon {
                words: lexicon.words.clone(),
                synonyms: Vec::new(),
            },
            synonyms: Vec::new(),
        };
        analyzer.with_synonyms(&lexicon.synonyms)
    }

    /// This analyser's segmentation (same dictionary, shared, no copy) with `synonyms` in
    /// place of its own: how one shared index serves sites with different synonym groups.
    pub fn with_synonyms(&self, synonyms: &[Vec<String>]) -> Self {
        let mut analyzer = Analyzer {
            jieba: Arc::clone(&self.jieba),
            lexicon: Lexicon {
                words: self.lexicon.words.clone(),
                synonyms: synonyms.to_vec(),
            },
            synonyms: Vec::new(),
        };
        analyzer.synonyms = synonyms
            .iter()
            .map(|group| {
                let members: Vec<&String> = group.iter().filter(|p| !p.trim().is_empty()).collect();
                SynonymGroup {
                    raw: members.iter().map(|p| p.trim().to_lowercase()).collect(),
                    analysed: members.iter().map(|p| analyzer.analyze(p)).collect(),
                }
            })
            .filter(|g| g.raw.len() > 1)
            .collect();
        analyzer
    }

    /// Whether both analysers segment with the very same dictionary (so terms one produces
    /// are the terms the other indexed).
    pub fn same_dictionary(&self, other: &Analyzer) -> bool {
        Arc::ptr_eq(&self.jieba, &other.jieba)
    }

    /// The lexicon this analyser was built from.
    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// A tantivy analyser (segment → drop long tokens → lower-case → English stem) to register
    /// on an index. Cloning it is cheap.
    pub fn text_analyzer(&self) -> TextAnalyzer {
        TextAnalyzer::builder(SegmentingTokenizer {
            jieba: Arc::clone(&self.jieba),
        })
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
    }

    /// Analyses text exactly as the index does, returning terms in order (with repeats).
    pub fn analyze(&self, text: &str) -> Vec<String> {
        let mut analyzer = self.text_analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        out
    }

    /// Analyses a query and adds the synonyms it triggers.
    ///
    /// A group is triggered when one of its phrases occurs in the query, either literally
    /// (case-insensitive substring) or as analysed terms ("refunds" triggers "refund").
    pub fn analyze_query(&self, text: &str) -> AnalyzedQuery {
        let mut terms = Vec::new();
        let mut seen = BTreeSet::new();
        for term in self.analyze(text) {
            if seen.insert(term.clone()) {
                terms.push(term);
            }
        }
        let lowered = text.to_lowercase();
        let mut alternatives: Vec<Vec<String>> = Vec::new();
        for group in &self.synonyms {
            let triggered = group
                .raw
                .iter()
                .zip(&group.analysed)
                .any(|(raw, analysed)| {
                    // Substring matching only for unspaced scripts, where segmentation inside
                    // a sentence may split the phrase differently; for spaced words it would
                    // fire on fragments ("ai" in "email"), so those compare analysed terms.
                    (is_unspaced(raw) && lowered.contains(raw.as_str()))
                        || (!analysed.is_empty() && analysed.iter().all(|t| seen.contains(t)))
                });
            if !triggered {
                continue;
            }
            for analysed in &group.analysed {
                let already_covered = analysed.iter().all(|t| seen.contains(t));
                if !analysed.is_empty() && !already_covered && !alternatives.contains(analysed) {
                    alternatives.push(analysed.clone());
                }
            }
        }
        // Function words say nothing about which chunk answers: in a small knowledge base
        // IDF cannot discount them, and "的" in a question would rank any chunk with "的" in
        // it. Dropped from the query (never from the index), unless nothing else is left.
        if terms.iter().any(|t| !is_stopword(t)) {
            terms.retain(|t| !is_stopword(t));
        }
        AnalyzedQuery {
            terms,
            alternatives,
        }
    }
}

/// Query terms (as analysed: lower-cased, English stemmed) too common to rank by.
fn is_stopword(term: &str) -> bool {
    const STOPWORDS: &[&str] = &[
        // Chinese particles, pronouns and the commonest verbs and connectives.
        "的", "了", "是", "在", "我", "你", "他", "她", "它", "我们", "你们", "他们", "吗", "呢",
        "吧", "啊", "呀", "和", "与", "及", "也", "都", "就", "把", "被", "给", "这", "那", "这个",
        "那个", "有", "一个", "请问", "请", "一下", "能", "可以", "会", "要", "怎么", "怎样",
        "如何", "什么", "吗？", "之", "得", "地", "着", "过",
        // English articles, pronouns, auxiliaries and prepositions (stemmed forms included).
        "a", "an", "the", "i", "me", "my", "you", "your", "we", "our", "it", "its", "is", "are",
        "am", "was", "wa", "be", "been", "do", "doe", "did", "can", "could", "would", "should",
        "will", "to", "of", "in", "on", "at", "for", "with", "and", "or", "that", "this", "there",
        "how", "what", "pleas", "hi", "hello",
    ];
    STOPWORDS.contains(&term)
}

/// True when the phrase contains letters of a script written without spaces (CJK, …).
fn is_unspaced(phrase: &str) -> bool {
    phrase
        .chars()
        .any(|c| c.is_alphanumeric() && !c.is_ascii() && !is_spaced_script(c))
}

/// Latin (with accents), Greek and Cyrillic letters: scripts that separate words by spaces.
fn is_spaced_script(c: char) -> bool {
    matches!(c, '\u{00C0}'..='\u{024F}' | '\u{0370}'..='\u{04FF}')
}

/// Jieba search-mode segmentation over a shared dictionary, skipping whitespace and
/// punctuation tokens (jieba emits them; they would only add noise terms).
#[derive(Clone)]
struct SegmentingTokenizer {
    jieba: Arc<Jieba>,
}

/// Tokens of one text, computed eagerly because jieba segments whole sentences at once.
struct SegmentedStream {
    /// Remaining tokens, reversed so `advance` can pop from the end.
    pending: Vec<Token>,
    current: Token,
}

impl Tokenizer for SegmentingTokenizer {
    type TokenStream<'a> = SegmentedStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SegmentedStream {
        // HMM on: it joins unknown Chinese words (names, new slang) instead of splitting them
        // into single characters.
        let mut pending: Vec<Token> = self
            .jieba
            .cut_for_search(text, true)
            .into_iter()
            .filter(|w| w.word.chars().any(char::is_alphanumeric))
            .enumerate()
            .map(|(position, word)| Token {
                offset_from: word.byte_start,
                offset_to: word.byte_end,
                // Ordinal positions: search mode emits overlapping words, and tantivy wants
                // positions that never go backwards.
                position,
                text: word.word.to_string(),
                position_length: 1,
            })
            .collect();
        pending.reverse();
        SegmentedStream {
            pending,
            current: Token::default(),
        }
    }
}

impl TokenStream for SegmentedStream {
    fn advance(&mut self) -> bool {
        match self.pending.pop() {
            Some(token) => {
                self.current = token;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> Analyzer {
        Analyzer::new(&Lexicon::new())
    }

    #[test]
    fn search_mode_emits_whole_word_and_parts() {
        let terms = plain().analyze("上海交通大学");
        for expected in ["上海交通大学", "上海", "交通", "大学"] {
            assert!(
                terms.iter().any(|t| t == expected),
                "{expected} in {terms:?}"
            );
        }
    }

    #[test]
    fn english_is_lowercased_and_stemmed() {
        let terms = plain().analyze("Refunds are PROCESSED quickly");
        assert!(terms.contains(&"refund".to_string()), "{terms:?}");
        assert!(terms.contains(&"process".to_string()), "{terms:?}");
    }

    #[test]
    fn whitespace_and_punctuation_are_not_terms() {
        let terms = plain().analyze("你好，世界！ hello, world?  ");
        assert!(
            terms.iter().all(|t| t.chars().any(char::is_alphanumeric)),
            "{terms:?}"
        );
    }

    #[test]
    fn custom_word_is_kept_whole() {
        let text = "蚂蚁花呗怎么还款";
        let without = plain().analyze(text);
        assert!(!without.contains(&"蚂蚁花呗".to_string()), "{without:?}");
        let with = Analyzer::new(&Lexicon::new().with_word("蚂蚁花呗")).analyze(text);
        assert!(with.contains(&"蚂蚁花呗".to_string()), "{with:?}");
    }

    #[test]
    fn custom_words_do_not_leak_between_lexicons() {
        let _site_a = Analyzer::new(&Lexicon::new().with_word("蚂蚁花呗"));
        let site_b = plain().analyze("蚂蚁花呗");
        assert!(!site_b.contains(&"蚂蚁花呗".to_string()), "{site_b:?}");
    }

    #[test]
    fn synonyms_expand_in_both_directions_and_after_stemming() {
        let lexicon = Lexicon::new()
            .with_word("蚂蚁花呗")
            .with_synonyms(["花呗", "蚂蚁花呗"])
            .with_synonyms(["refund", "money back"]);
        let analyzer = Analyzer::new(&lexicon);

        let q = analyzer.analyze_query("Refunds please");
        assert!(
            q.alternatives
                .contains(&vec!["money".to_string(), "back".to_string()]),
            "{q:?}"
        );

        let q = analyzer.analyze_query("I want my money back");
        assert!(
            q.alternatives.contains(&vec!["refund".to_string()]),
            "{q:?}"
        );

        let q = analyzer.analyze_query("花呗还款");
        assert!(
            q.alternatives.iter().flatten().any(|t| t == "蚂蚁花呗"),
            "{q:?}"
        );
        assert!(q.all_terms().contains(&"蚂蚁花呗".to_string()));
    }

    #[test]
    fn with_synonyms_shares_the_dictionary_and_replaces_the_groups() {
        let base = Analyzer::new(
            &Lexicon::new()
                .with_word("蚂蚁花呗")
                .with_synonyms(["a", "b"]),
        );
        let site = base.with_synonyms(&[vec!["花呗".into(), "蚂蚁花呗".into()]]);
        assert!(site.same_dictionary(&base));
        assert!(!site.same_dictionary(&plain()));
        assert!(site.analyze("蚂蚁花呗").contains(&"蚂蚁花呗".to_string()));
        assert!(site.analyze_query("a").alternatives.is_empty());
        assert!(!site.analyze_query("花呗").alternatives.is_empty());
    }

    #[test]
    fn spaced_synonyms_do_not_fire_on_word_fragments() {
        let analyzer = Analyzer::new(&Lexicon::new().with_synonyms(["ai", "assistant"]));
        assert!(analyzer.analyze_query("email me").alternatives.is_empty());
        assert!(!analyzer.analyze_query("AI help").alternatives.is_empty());
    }

    #[test]
    fn function_words_are_dropped_from_queries_unless_nothing_else_is_left() {
        let a = plain();
        let q = a.analyze_query("我买的东西多久可以收到");
        assert!(!q.terms.contains(&"的".to_owned()), "{:?}", q.terms);
        assert!(q.terms.contains(&"东西".to_owned()), "{:?}", q.terms);
        let q = a.analyze_query("How do I reset my password?");
        assert_eq!(q.terms, ["reset", "password"]);
        // A query of function words alone still searches for them.
        assert_eq!(a.analyze_query("the").terms, ["the"]);
    }

    #[test]
    fn no_synonyms_when_nothing_triggers() {
        let analyzer = Analyzer::new(&Lexicon::new().with_synonyms(["refund", "money back"]));
        let q = analyzer.analyze_query("shipping time");
        assert!(q.alternatives.is_empty(), "{q:?}");
    }

    #[test]
    fn dictionary_fingerprint_ignores_order_duplicates_and_blanks() {
        let a = Lexicon::new()
            .with_word("b")
            .with_word("a")
            .with_word(" a ");
        let b = Lexicon::new().with_word("a").with_word("b").with_word("");
        assert_eq!(a.dictionary_fingerprint(), b.dictionary_fingerprint());
    }

    proptest::proptest! {
        #[test]
        fn tokenizer_never_panics_on_arbitrary_unicode(text in "\\PC*") {
            let analyzer = plain();
            let q = analyzer.analyze_query(&text);
            for term in q.all_terms() {
                proptest::prop_assert!(!term.is_empty());
                proptest::prop_assert!(term.len() <= MAX_TOKEN_BYTES);
            }
        }

        #[test]
        fn tokenizer_never_panics_on_any_chars(chars in proptest::collection::vec(proptest::char::any(), 0..64)) {
            let text: String = chars.into_iter().collect();
            let _ = plain().analyze(&text);
        }
    }
}

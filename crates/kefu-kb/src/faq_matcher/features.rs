//! Turning text into sparse TF-IDF feature vectors.
//!
//! The matcher learns from surface features only, so this file decides what "the same words"
//! means:
//!
//! - [`tokenize`] splits normalised text into word tokens (runs of letters and digits) and
//!   single-character tokens for Chinese and Japanese script, which is written without spaces.
//! - [`FeatureExtractor`] turns tokens into hashed feature keys in two blocks: *word* n-grams over
//!   English-stemmed tokens (adjacent CJK characters thus give character bigrams), and *char*
//!   n-grams inside each padded non-CJK word, which gives tolerance to typos and inflections
//!   the stemmer misses. Two optional extras exist because cross-validation tried them: word
//!   pairs one word apart (`skip_bigrams`) and char n-grams spanning the space between words
//!   (`char_across_words`).
//! - [`TfIdf`] is the vocabulary learned from the training phrasings: it maps keys to columns,
//!   weights them by sublinear term frequency times smoothed inverse document frequency, and
//!   L2-normalises each block before mixing them with their block weights.
//!
//! Keys are 64-bit FNV-1a hashes of the n-gram text with a block tag, so extraction allocates no
//! strings per n-gram; a collision among the few hundred thousand n-grams of a knowledge base is
//! astronomically unlikely, and would only merge two features.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rust_stemmers::{Algorithm, Stemmer};

use super::sparse::SparseVec;
use crate::text_normalise::{is_cjk, normalise};

/// What kind of text a [`Token`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A run of letters and digits from a space-separated script (Latin, Cyrillic, Hangul...).
    Word,
    /// One character of a script written without spaces (Han ideographs, kana).
    Cjk,
}

/// One token of normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token text, already normalised (lower case, full-width folded).
    pub text: String,
    /// Whether it is a word or a single CJK character.
    pub kind: TokenKind,
}

/// Splits `text` into tokens after [`normalise`]-ing it.
///
/// Word tokens are maximal runs of alphanumeric characters; every CJK character is a token of its
/// own; everything else (spaces, punctuation, symbols, emoji) separates tokens and is dropped.
#[must_use]
pub fn tokenize(text: &str) -> Vec<Token> {
    let normalised = normalise(text);
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in normalised.chars() {
        if is_cjk(c) {
            flush_word(&mut word, &mut tokens);
            tokens.push(Token {
                text: c.to_string(),
                kind: TokenKind::Cjk,
            });
        } else if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush_word(&mut word, &mut tokens);
        }
    }
    flush_word(&mut word, &mut tokens);
    tokens
}

fn flush_word(word: &mut String, tokens: &mut Vec<Token>) {
    if !word.is_empty() {
        tokens.push(Token {
            text: std::mem::take(word),
            kind: TokenKind::Word,
        });
    }
}

/// Which block of the feature vector a key belongs to; each block is normalised on its own so
/// that long sentences (many char n-grams) do not drown the word evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Block {
    Word = 0,
    Char = 1,
}

/// Settings for [`FeatureExtractor`]; part of [`super::MatcherConfig`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FeatureSettings {
    pub word_ngram_max: usize,
    pub char_ngram_min: usize,
    pub char_ngram_max: usize,
    pub char_across_words: bool,
    pub skip_bigrams: bool,
    pub stem: bool,
}

/// Extracts hashed feature keys (with repetitions) from text.
pub(crate) struct FeatureExtractor {
    settings: FeatureSettings,
    stemmer: Stemmer,
}

/// Hashed keys of one text, per block, repetitions included (term frequency is their count).
#[derive(Debug, Default, Clone)]
pub(crate) struct RawFeatures {
    pub word: Vec<u64>,
    pub chars: Vec<u64>,
}

impl RawFeatures {
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.word.is_empty() && self.chars.is_empty()
    }
}

impl FeatureExtractor {
    pub fn new(settings: FeatureSettings) -> Self {
        Self {
            settings,
            stemmer: Stemmer::create(Algorithm::English),
        }
    }

    #[cfg(test)]
    pub fn extract(&self, text: &str) -> RawFeatures {
        self.extract_tokens(&tokenize(text))
    }

    /// Features of already tokenised text (so the caller can correct tokens first).
    pub fn extract_tokens(&self, tokens: &[Token]) -> RawFeatures {
        let mut raw = RawFeatures::default();

        let terms: Vec<String> = tokens
            .iter()
            .map(|t| match t.kind {
                // The stemmer is an English one: only apply it to ASCII words so that other
                // Latin-script languages are not mangled by English suffix rules.
                TokenKind::Word if self.settings.stem && t.text.is_ascii() => {
                    self.stemmer.stem(&t.text).into_owned()
                }
                _ => t.text.clone(),
            })
            .collect();
        for n in 1..=self.settings.word_ngram_max.max(1) {
            for window in terms.windows(n) {
                let mut h = Fnv::new(Block::Word as u8, n as u8);
                for (i, term) in window.iter().enumerate() {
                    if i > 0 {
                        h.write_byte(0x1f);
                    }
                    h.write_str(term);
                }
                raw.word.push(h.finish());
            }
        }

        if self.settings.skip_bigrams {
            // Pairs of words one apart ("card _ arrive"): word order without the filler word.
            for window in terms.windows(3) {
                let mut h = Fnv::new(Block::Word as u8, 0xff);
                h.write_str(&window[0]);
                h.write_byte(0x1f);
                h.write_str(&window[2]);
                raw.word.push(h.finish());
            }
        }

        let (lo, hi) = (self.settings.char_ngram_min, self.settings.char_ngram_max);
        if lo >= 1 && hi >= lo {
            let mut padded: Vec<char> = Vec::new();
            for segment in self.char_segments(tokens) {
                padded.clear();
                padded.push(' ');
                for (i, token) in segment.iter().enumerate() {
                    if i > 0 {
                        padded.push(' ');
                    }
                    padded.extend(token.text.chars());
                }
                padded.push(' ');
                for n in lo..=hi {
                    for window in padded.windows(n) {
                        let mut h = Fnv::new(Block::Char as u8, n as u8);
                        for &c in window {
                            h.write_char(c);
                        }
                        raw.chars.push(h.finish());
                    }
                }
            }
        }
        raw
    }
}

impl FeatureExtractor {
    /// The token runs character n-grams are taken from: each word on its own, or, with
    /// `char_across_words`, each run of consecutive words (CJK characters end a run), so that
    /// n-grams spanning a space ("p u", "top u") capture compounds written apart or together.
    fn char_segments<'t>(&self, tokens: &'t [Token]) -> Vec<&'t [Token]> {
        if !self.settings.char_across_words {
            return tokens
                .chunks(1)
                .filter(|c| c[0].kind == TokenKind::Word)
                .collect();
        }
        tokens
            .split(|t| t.kind == TokenKind::Cjk)
            .filter(|run| !run.is_empty())
            .collect()
    }
}

/// FNV-1a, 64 bit: tiny, deterministic across platforms and runs (unlike `RandomState`).
struct Fnv(u64);

impl Fnv {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new(block: u8, n: u8) -> Self {
        let mut h = Self(Self::OFFSET);
        h.write_byte(block);
        h.write_byte(n);
        h
    }

    fn write_byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(Self::PRIME);
    }

    fn write_str(&mut self, s: &str) {
        for &b in s.as_bytes() {
            self.write_byte(b);
        }
    }

    fn write_char(&mut self, c: char) {
        let mut buf = [0_u8; 4];
        self.write_str(c.encode_utf8(&mut buf));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `Hasher` for keys that are already well-mixed hashes: it passes them through.
#[derive(Default)]
pub(crate) struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<PassThroughHasher>>;

/// The learned vocabulary and its weights.
#[derive(Debug, Clone)]
pub(crate) struct TfIdf {
    columns: KeyMap<u32>,
    idf: Vec<f32>,
    block_weights: [f32; 2],
}

impl TfIdf {
    /// Learns the vocabulary from training texts. Keys seen in fewer than `min_df` texts are left
    /// out; `word_weight` and `char_weight` scale the two unit-length blocks before the final
    /// normalisation.
    pub fn fit(docs: &[RawFeatures], min_df: u32, word_weight: f32, char_weight: f32) -> Self {
        let mut df: KeyMap<u32> = KeyMap::default();
        let mut order: Vec<u64> = Vec::new();
        let mut seen: Vec<u64> = Vec::new();
        for doc in docs {
            seen.clear();
            seen.extend_from_slice(&doc.word);
            seen.extend_from_slice(&doc.chars);
            seen.sort_unstable();
            seen.dedup();
            for &key in &seen {
                let count = df.entry(key).or_insert_with(|| {
                    order.push(key);
                    0
                });
                *count += 1;
            }
        }
        // Columns are numbered in first-seen order over the (ordered) training texts, so the
        // layout, and everything trained on it, is the same on every run.
        let n = docs.len() as f32;
        let mut columns = KeyMap::default();
        let mut idf = Vec::new();
        for key in order {
            let Some(&count) = df.get(&key) else { continue };
            if count < min_df {
                continue;
            }
            columns.insert(key, idf.len() as u32);
            idf.push(((1.0 + n) / (1.0 + count as f32)).ln() + 1.0);
        }
        Self {
            columns,
            idf,
            block_weights: [word_weight, char_weight],
        }
    }

    pub fn len(&self) -> usize {
        self.idf.len()
    }

    /// Maps raw keys to a unit-length sparse vector (empty if no key is in the vocabulary).
    pub fn transform(&self, raw: &RawFeatures) -> SparseVec {
        let mut entries: Vec<(u32, f32)> = Vec::with_capacity(raw.word.len() + raw.chars.len());
        for (block, keys) in [(Block::Word, &raw.word), (Block::Char, &raw.chars)] {
            let start = entries.len();
            let mut cols: Vec<u32> = keys
                .iter()
                .filter_map(|k| self.columns.get(k).copied())
                .collect();
            cols.sort_unstable();
            let mut i = 0;
            while i < cols.len() {
                let col = cols[i];
                let mut j = i;
                while j < cols.len() && cols[j] == col {
                    j += 1;
                }
                let tf = 1.0 + ((j - i) as f32).ln();
                let idf = self.idf.get(col as usize).copied().unwrap_or(1.0);
                entries.push((col, tf * idf));
                i = j;
            }
            let block_entries = &mut entries[start..];
            let norm = block_entries.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                let scale = self.block_weights[block as usize] / norm;
                for (_, v) in block_entries.iter_mut() {
                    *v *= scale;
                }
            }
        }
        SparseVec::from_unsorted(entries).normalised()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(tokens: &[Token]) -> Vec<&str> {
        tokens.iter().map(|t| t.text.as_str()).collect()
    }

    fn settings() -> FeatureSettings {
        FeatureSettings {
            word_ngram_max: 2,
            char_ngram_min: 2,
            char_ngram_max: 5,
            char_across_words: false,
            skip_bigrams: false,
            stem: true,
        }
    }

    #[test]
    fn tokenizes_english_with_punctuation() {
        let tokens = tokenize("Where's my NEW card?! It's been 2 weeks...");
        assert_eq!(
            texts(&tokens),
            ["wheres", "my", "new", "card", "its", "been", "2", "weeks"]
        );
        assert!(tokens.iter().all(|t| t.kind == TokenKind::Word));
    }

    #[test]
    fn tokenizes_chinese_one_char_per_token() {
        let tokens = tokenize("我的卡还没到，怎么办？");
        assert_eq!(
            texts(&tokens),
            ["我", "的", "卡", "还", "没", "到", "怎", "么", "办"]
        );
        assert!(tokens.iter().all(|t| t.kind == TokenKind::Cjk));
    }

    #[test]
    fn tokenizes_mixed_scripts() {
        let tokens = tokenize("我的Visa卡 PIN码");
        assert_eq!(texts(&tokens), ["我", "的", "visa", "卡", "pin", "码"]);
        assert_eq!(tokens[2].kind, TokenKind::Word);
        assert_eq!(tokens[3].kind, TokenKind::Cjk);
    }

    #[test]
    fn empty_and_symbol_only_text_has_no_tokens() {
        assert!(tokenize("").is_empty());
        assert!(tokenize("  \t\n ?!… 🙂 ").is_empty());
    }

    #[test]
    fn chinese_gives_character_bigrams() {
        let fx = FeatureExtractor::new(settings());
        let raw = fx.extract("卡丢了");
        // Three unigrams and two bigrams, no char n-grams for CJK characters.
        assert_eq!(raw.word.len(), 5);
        assert!(raw.chars.is_empty());
        // The bigram of 卡丢 is shared with a longer sentence.
        let other = fx.extract("我的卡丢了");
        assert!(raw.word.iter().all(|k| other.word.contains(k)));
    }

    #[test]
    fn optional_features_add_keys() {
        let plain = FeatureExtractor::new(settings()).extract("top up my card");
        let skip = FeatureExtractor::new(FeatureSettings {
            skip_bigrams: true,
            ..settings()
        })
        .extract("top up my card");
        // Two extra pairs: (top, my) and (up, card).
        assert_eq!(skip.word.len(), plain.word.len() + 2);
        let across = FeatureExtractor::new(FeatureSettings {
            char_across_words: true,
            ..settings()
        })
        .extract("top up");
        let within = FeatureExtractor::new(settings()).extract("top up");
        assert!(across.chars.len() > within.chars.len());
    }

    #[test]
    fn stemming_merges_inflections() {
        let fx = FeatureExtractor::new(settings());
        let a = fx.extract("charges");
        let b = fx.extract("charged");
        assert_eq!(a.word[0], b.word[0]);
    }

    #[test]
    fn tfidf_vectors_are_unit_length_and_skip_unknown_keys() {
        let fx = FeatureExtractor::new(settings());
        let docs: Vec<RawFeatures> = ["my card is lost", "card arrived late", "top up failed"]
            .map(|t| fx.extract(t))
            .into();
        let tfidf = TfIdf::fit(&docs, 1, 1.0, 1.0);
        let v = tfidf.transform(&fx.extract("lost card"));
        let norm: f32 = v.values().iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(tfidf.transform(&fx.extract("zzqx")).is_empty());
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn tokenizer_never_panics_and_yields_clean_tokens(s in "\\PC*") {
            for token in tokenize(&s) {
                prop_assert!(!token.text.is_empty());
                prop_assert!(token.text.chars().all(|c| c.is_alphanumeric() || is_cjk(c)));
            }
        }

        #[test]
        fn extraction_never_panics(s in any::<String>()) {
            let fx = FeatureExtractor::new(FeatureSettings {
                word_ngram_max: 3, char_ngram_min: 1, char_ngram_max: 6, char_across_words: true, skip_bigrams: true, stem: true,
            });
            let raw = fx.extract(&s);
            prop_assert_eq!(raw.is_empty(), tokenize(&s).is_empty());
        }
    }
}

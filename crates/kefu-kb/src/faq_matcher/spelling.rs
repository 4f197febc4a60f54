//! Spelling tolerance for words the knowledge base has never seen.
//!
//! Visitors type fast: "recieve", "transfr", "accout". Character n-grams already give such a
//! word partial credit, but its word n-grams match nothing. The [`Speller`] learns the words of
//! the training phrasings and, at query time, replaces an unknown word by the most frequent
//! known word one edit away (a deletion, insertion, substitution or swap of neighbours), so the
//! query gets the full word evidence of what was meant.
//!
//! Why this shape:
//!
//! - Only unknown words are touched, so a knowledge base's own vocabulary (product names,
//!   jargon) is never "corrected" away from itself.
//! - Only ASCII letter words of at least [`MIN_LEN`] characters are corrected: short words have
//!   too many neighbours one edit away ("pin", "pan", "pen") to guess safely, and the edit rules
//!   are those of alphabetic scripts.
//! - Lookup is the symmetric-delete method (Garbe's SymSpell): every known word is indexed under
//!   itself and each of its one-character deletions; an unknown word's own deletions then find
//!   every known word within one insertion, deletion or substitution, and a swap of neighbours
//!   is checked directly. Candidates are verified with a true distance check, so index hits
//!   such as two different substitutions at the same place are kept only when right.
//! - The most frequent candidate wins (by the number of phrasings using it), ties by the word
//!   itself, so the choice is deterministic.

use std::collections::HashMap;

use super::features::{Token, TokenKind};

/// Shortest word the speller corrects.
pub(crate) const MIN_LEN: usize = 4;

/// The known words and the symmetric-delete index over them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Speller {
    /// Known word -> number of training phrasings containing it.
    frequency: HashMap<String, u32>,
    /// A word or a one-character deletion of it -> the known words it comes from.
    deletes: HashMap<String, Vec<u32>>,
    /// Known words by id (the values of `deletes`).
    words: Vec<String>,
}

fn correctable(word: &str) -> bool {
    word.len() >= MIN_LEN && word.bytes().all(|b| b.is_ascii_lowercase())
}

/// The word with the byte at `i` removed (ASCII only).
fn without(word: &str, i: usize) -> String {
    let mut s = String::with_capacity(word.len() - 1);
    s.push_str(&word[..i]);
    s.push_str(&word[i + 1..]);
    s
}

/// Whether `a` and `b` are one deletion, insertion, substitution or neighbour swap apart
/// (ASCII only).
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ra, rb) = (a.len() - prefix - suffix, b.len() - prefix - suffix);
    match (ra, rb) {
        (1, 0) | (0, 1) | (1, 1) => true,
        (2, 2) => a[prefix] == b[prefix + 1] && a[prefix + 1] == b[prefix],
        _ => false,
    }
}

impl Speller {
    /// Learns the words of the training phrasings (each phrasing's tokens).
    pub fn build<'a>(phrasings: impl IntoIterator<Item = &'a [Token]>) -> Self {
        let mut frequency: HashMap<String, u32> = HashMap::new();
        for tokens in phrasings {
            let mut seen: Vec<&str> = tokens
                .iter()
                .filter(|t| t.kind == TokenKind::Word)
                .map(|t| t.text.as_str())
                .collect();
            seen.sort_unstable();
            seen.dedup();
            for word in seen {
                *frequency.entry(word.to_owned()).or_insert(0) += 1;
            }
        }
        let mut words: Vec<String> = frequency
            .keys()
            .filter(|w| correctable(w))
            .cloned()
            .collect();
        // Sorted, so ids (and with them tie-breaks) do not depend on hash order.
        words.sort_unstable();
        let mut deletes: HashMap<String, Vec<u32>> = HashMap::new();
        for (id, word) in words.iter().enumerate() {
            deletes.entry(word.clone()).or_default().push(id as u32);
            for i in 0..word.len() {
                deletes.entry(without(word, i)).or_default().push(id as u32);
            }
        }
        Self {
            frequency,
            deletes,
            words,
        }
    }

    /// The known word meant by `word`, if `word` is unknown, correctable, and a known word is
    /// one edit away.
    pub fn correct(&self, word: &str) -> Option<&str> {
        if !correctable(word) || self.frequency.contains_key(word) {
            return None;
        }
        let mut keys: Vec<String> = (0..word.len()).map(|i| without(word, i)).collect();
        keys.push(word.to_owned());
        // Neighbour swaps keep the length and all letters, so no delete key finds them unless
        // the swapped letters are equal; check the swaps directly.
        let bytes = word.as_bytes();
        let mut swaps = Vec::new();
        for i in 0..bytes.len() - 1 {
            let mut b = bytes.to_vec();
            b.swap(i, i + 1);
            if let Ok(s) = String::from_utf8(b) {
                swaps.push(s);
            }
        }
        let mut best: Option<(u32, &str)> = None;
        for key in &keys {
            for &id in self.deletes.get(key).into_iter().flatten() {
                let Some(candidate) = self.words.get(id as usize) else {
                    continue;
                };
                if one_edit_apart(word, candidate) {
                    best = better(best, candidate, self.frequency(candidate));
                }
            }
        }
        for swap in &swaps {
            if let Some((known, &f)) = self.frequency.get_key_value(swap.as_str()) {
                best = better(best, known, f);
            }
        }
        best.map(|(_, w)| w)
    }

    fn frequency(&self, word: &str) -> u32 {
        self.frequency.get(word).copied().unwrap_or(0)
    }

    /// Replaces every correctable unknown word token in `tokens` by its correction.
    pub fn correct_tokens(&self, tokens: &mut [Token]) {
        for token in tokens.iter_mut() {
            if token.kind != TokenKind::Word {
                continue;
            }
            if let Some(fixed) = self.correct(&token.text) {
                token.text = fixed.to_owned();
            }
        }
    }
}

/// Keeps the more frequent word; equal frequencies go to the alphabetically first.
fn better<'a>(
    best: Option<(u32, &'a str)>,
    word: &'a str,
    frequency: u32,
) -> Option<(u32, &'a str)> {
    match best {
        Some((f, w)) if f > frequency || (f == frequency && w <= word) => Some((f, w)),
        _ => Some((frequency, word)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faq_matcher::features::tokenize;

    fn speller(texts: &[&str]) -> Speller {
        let tokens: Vec<Vec<Token>> = texts.iter().map(|t| tokenize(t)).collect();
        Speller::build(tokens.iter().map(Vec::as_slice))
    }

    #[test]
    fn edit_distance_one() {
        assert!(one_edit_apart("recieve", "receive"));
        assert!(one_edit_apart("transfr", "transfer"));
        assert!(one_edit_apart("accoount", "account"));
        assert!(one_edit_apart("cars", "card"));
        assert!(!one_edit_apart("card", "card"));
        assert!(!one_edit_apart("crdt", "card"));
        assert!(!one_edit_apart("abcd", "badc"));
    }

    #[test]
    fn corrects_unknown_words_to_the_most_frequent_neighbour() {
        let s = speller(&[
            "where is my card",
            "my card is lost",
            "card delivery",
            "I want to cancel a transfer",
            "my cart",
            "I did not receive money",
        ]);
        assert_eq!(s.correct("recieve"), Some("receive"));
        assert_eq!(s.correct("transfr"), Some("transfer"));
        // Both "card" (3 phrasings) and "cart" (1) are one edit from "carx": frequency wins.
        assert_eq!(s.correct("carx"), Some("card"));
        // Known words and short or non-letter words are left alone.
        assert_eq!(s.correct("cart"), None);
        assert_eq!(s.correct("crd"), None);
        assert_eq!(s.correct("card2"), None);
        assert_eq!(s.correct("zzzzzz"), None);
    }

    #[test]
    fn corrects_tokens_in_place() {
        let s = speller(&["please cancel my transfer"]);
        let mut tokens = tokenize("Cancle my transfer");
        s.correct_tokens(&mut tokens);
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["cancel", "my", "transfer"]);
    }
}

//! A site's search vocabulary: custom dictionary words the Chinese segmenter must keep whole
//! (product names, slang: 蚂蚁花呗) and synonym groups searched as one (花呗 = 蚂蚁花呗,
//! "refund" = "money back"). Stored per site and edited by admins and editors; the search
//! engine (kefu-search `Lexicon`) and the FAQ matcher read it.

use serde::{Deserialize, Serialize};

use crate::validate::ValidationError;

/// Most custom words per site.
pub const MAX_WORDS: usize = 2_000;
/// Most synonym groups per site.
pub const MAX_SYNONYM_GROUPS: usize = 1_000;
/// Most phrases in one synonym group.
pub const MAX_GROUP_MEMBERS: usize = 20;
/// Longest word or phrase, in characters.
pub const MAX_PHRASE_CHARS: usize = 50;

/// A site's custom words and synonym groups.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct KbLexicon {
    /// Words the segmenter keeps whole. Changing them re-indexes the knowledge base.
    pub words: Vec<String>,
    /// Groups of interchangeable phrases (two or more each). Applied when searching, so
    /// changing them needs no re-index.
    pub synonyms: Vec<Vec<String>>,
}

/// A phrase is 1-50 characters of letters, digits, marks, spaces, `-`, `'`, `.`, `&`, `+`
/// and `#` (C++, C#); anything else (punctuation, control characters) would be dropped by the
/// analyser and silently never match.
fn phrase(field: &'static str, value: &str) -> Result<String, ValidationError> {
    let trimmed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let len = trimmed.chars().count();
    if len == 0 || len > MAX_PHRASE_CHARS {
        return Err(ValidationError::invalid(
            field,
            format!("\"{value}\": 1-{MAX_PHRASE_CHARS} characters"),
        ));
    }
    if !trimmed.chars().any(char::is_alphanumeric)
        || trimmed
            .chars()
            .any(|c| !(c.is_alphanumeric() || c == ' ' || "-'.&+#·".contains(c) || is_mark(c)))
    {
        return Err(ValidationError::invalid(
            field,
            format!("\"{value}\": letters, digits, spaces and - ' . & + # only"),
        ));
    }
    Ok(trimmed)
}

/// Combining marks (accents written separately, Thai and Devanagari vowel signs).
fn is_mark(c: char) -> bool {
    matches!(u32::from(c), 0x0300..=0x036F | 0x0E31..=0x0E4E | 0x0900..=0x097F)
}

impl KbLexicon {
    /// Checks sizes and characters, and returns the lexicon tidied: whitespace collapsed,
    /// duplicates removed (case-insensitively), order kept.
    pub fn validated(&self) -> Result<KbLexicon, ValidationError> {
        if self.words.len() > MAX_WORDS {
            return Err(ValidationError::invalid(
                "words",
                format!("at most {MAX_WORDS} words"),
            ));
        }
        if self.synonyms.len() > MAX_SYNONYM_GROUPS {
            return Err(ValidationError::invalid(
                "synonyms",
                format!("at most {MAX_SYNONYM_GROUPS} groups"),
            ));
        }
        let mut words: Vec<String> = Vec::new();
        for w in &self.words {
            let w = phrase("words", w)?;
            if w.contains(' ') {
                return Err(ValidationError::invalid(
                    "words",
                    format!("\"{w}\": a dictionary word has no spaces (use a synonym group)"),
                ));
            }
            if !words.iter().any(|x| x.to_lowercase() == w.to_lowercase()) {
                words.push(w);
            }
        }
        let mut synonyms: Vec<Vec<String>> = Vec::new();
        for group in &self.synonyms {
            if group.len() > MAX_GROUP_MEMBERS {
                return Err(ValidationError::invalid(
                    "synonyms",
                    format!("at most {MAX_GROUP_MEMBERS} phrases in a group"),
                ));
            }
            let mut members: Vec<String> = Vec::new();
            for p in group {
                let p = phrase("synonyms", p)?;
                if !members.iter().any(|x| x.to_lowercase() == p.to_lowercase()) {
                    members.push(p);
                }
            }
            if members.len() < 2 {
                return Err(ValidationError::invalid(
                    "synonyms",
                    format!(
                        "group {:?}: at least two different phrases",
                        group.join(" = ")
                    ),
                ));
            }
            synonyms.push(members);
        }
        Ok(KbLexicon { words, synonyms })
    }

    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.synonyms.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidies_and_deduplicates() {
        let lexicon = KbLexicon {
            words: vec![" 蚂蚁花呗 ".into(), "蚂蚁花呗".into(), "C++".into()],
            synonyms: vec![vec![
                "refund".into(),
                "money   back".into(),
                "Refund".into(),
            ]],
        }
        .validated()
        .unwrap();
        assert_eq!(lexicon.words, ["蚂蚁花呗", "C++"]);
        assert_eq!(lexicon.synonyms, [vec!["refund", "money back"]]);
    }

    #[test]
    fn refuses_bad_input() {
        let bad = [
            KbLexicon {
                words: vec!["two words".into()],
                ..KbLexicon::default()
            },
            KbLexicon {
                words: vec!["".into()],
                ..KbLexicon::default()
            },
            KbLexicon {
                words: vec!["<script>".into()],
                ..KbLexicon::default()
            },
            KbLexicon {
                synonyms: vec![vec!["花呗".into()]],
                ..KbLexicon::default()
            },
            KbLexicon {
                synonyms: vec![vec!["a".into(), "A".into()]],
                ..KbLexicon::default()
            },
            KbLexicon {
                words: vec!["x".repeat(51)],
                ..KbLexicon::default()
            },
        ];
        for lexicon in bad {
            let err = lexicon.validated().unwrap_err();
            assert_eq!(err.code(), "invalid_field", "{lexicon:?}");
        }
    }
}

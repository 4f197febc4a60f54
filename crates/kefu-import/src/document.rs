//! The importer's output: a knowledge-base document, format-independent.
//!
//! Every parser ends by building an [`ImportedDocument`] through [`ImportedDocument::article`] or
//! [`ImportedDocument::qa_pairs`], so body normalisation, language detection and the content
//! hash are done in exactly one place. The hash is what lets a re-import of the same source
//! update the stored document instead of creating a duplicate: equal normalised bodies give
//! equal hashes, whatever line endings or trailing spaces the file had.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One document ready to be stored in the knowledge base and chunked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedDocument {
    /// Human title: from the file's own metadata/heading, else the file name.
    pub title: String,
    /// Normalised Markdown (LF line endings, no trailing spaces, at most one blank line).
    pub body_markdown: String,
    /// "zh", "ja", "ko", "en" or "unknown" (see [`detect_language`]).
    pub language: String,
    /// File name or URL the document came from.
    pub source: String,
    /// SHA-256 hex of `body_markdown`.
    pub content_hash: String,
    /// Free text, or structured Q&A pairs.
    pub kind: DocumentKind,
    /// Problems with parts of the file that did not stop the import (e.g. skipped rows).
    pub warnings: Vec<ImportWarning>,
}

/// What a document holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentKind {
    /// Prose to be chunked by structure.
    Article,
    /// FAQ entries; each pair becomes one chunk.
    QaPairs(Vec<QaPair>),
}

/// One FAQ entry from a Q&A table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaPair {
    /// The canonical question.
    pub question: String,
    /// The answer; may span several lines.
    pub answer: String,
    /// Other ways visitors ask the same thing.
    pub alternatives: Vec<String>,
    /// Optional grouping from the table's category column.
    pub category: Option<String>,
}

/// A non-fatal problem found while importing a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportWarning {
    /// 1-based row number in the sheet/CSV (header row included) when the problem is a row.
    pub row: Option<usize>,
    /// What was wrong and what was done about it.
    pub message: String,
}

impl ImportWarning {
    /// A warning about one table row.
    pub fn row(row: usize, message: impl Into<String>) -> Self {
        ImportWarning {
            row: Some(row),
            message: message.into(),
        }
    }

    /// A warning about the file as a whole.
    pub fn file(message: impl Into<String>) -> Self {
        ImportWarning {
            row: None,
            message: message.into(),
        }
    }
}

impl ImportedDocument {
    /// Builds an article, normalising `body` and deriving language and hash from it.
    pub fn article(title: impl Into<String>, body: &str, source: impl Into<String>) -> Self {
        let body_markdown = normalise_markdown(body);
        Self::assemble(
            title.into(),
            body_markdown,
            source.into(),
            DocumentKind::Article,
        )
    }

    /// Builds a Q&A document; the body is the pairs rendered as Markdown (see [`render_qa`]).
    pub fn qa_pairs(
        title: impl Into<String>,
        pairs: Vec<QaPair>,
        source: impl Into<String>,
    ) -> Self {
        let pairs: Vec<QaPair> = pairs.into_iter().map(clean_pair).collect();
        let (body_markdown, _) = render_qa(&pairs);
        Self::assemble(
            title.into(),
            body_markdown,
            source.into(),
            DocumentKind::QaPairs(pairs),
        )
    }

    fn assemble(title: String, body_markdown: String, source: String, kind: DocumentKind) -> Self {
        let language = detect_language(&body_markdown).to_string();
        let content_hash = content_hash(&body_markdown);
        let title = normalise_inline(&title);
        ImportedDocument {
            title,
            body_markdown,
            language,
            source,
            content_hash,
            kind,
            warnings: Vec::new(),
        }
    }

    /// Attaches warnings (builder style, used by parsers).
    pub fn with_warnings(mut self, warnings: Vec<ImportWarning>) -> Self {
        self.warnings.extend(warnings);
        self
    }
}

/// SHA-256 of `body`, lowercase hex.
pub fn content_hash(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Canonical form of a Markdown body, so the same content always hashes the same.
///
/// Strips a BOM, turns CRLF/CR into LF, drops control characters (except tab and newline),
/// removes trailing whitespace on each line, collapses runs of blank lines into one and trims
/// blank lines at both ends. Leading indentation is kept because it is Markdown structure.
pub fn normalise_markdown(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0usize;
    for line in text.split('\n') {
        let cleaned: String = line
            .chars()
            .filter(|c| *c == '\t' || !c.is_control())
            .collect();
        let cleaned = cleaned.trim_end();
        if cleaned.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank_run > 0 {
                out.push('\n');
            }
        }
        blank_run = 0;
        out.push_str(cleaned);
    }
    out
}

/// Collapses all whitespace (including newlines) to single spaces: for titles and questions.
pub(crate) fn normalise_inline(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Guesses the main language of `text` from its scripts.
///
/// Counts Han characters against Latin *words* (one Chinese character carries about as much as
/// one English word), so "我们的API支持OAuth登录" is Chinese. Kana marks Japanese and Hangul
/// Korean even though Japanese also uses Han. Returns "unknown" when there is no letter at all
/// or another script dominates.
pub fn detect_language(text: &str) -> &'static str {
    let (mut han, mut kana, mut hangul, mut latin_words, mut other) = (0usize, 0, 0, 0, 0);
    let mut in_latin_word = false;
    for c in text.chars() {
        let latin = c.is_ascii_alphabetic() || matches!(c, '\u{c0}'..='\u{24f}');
        if latin {
            if !in_latin_word {
                latin_words += 1;
            }
            in_latin_word = true;
            continue;
        }
        in_latin_word = false;
        if is_han(c) {
            han += 1;
        } else if matches!(c, '\u{3040}'..='\u{30ff}') {
            kana += 1;
        } else if matches!(c, '\u{ac00}'..='\u{d7af}' | '\u{1100}'..='\u{11ff}') {
            hangul += 1;
        } else if c.is_alphabetic() {
            other += 1;
        }
    }
    let cjk = han + kana + hangul;
    let total = cjk + latin_words + other / 5;
    if total == 0 {
        return "unknown";
    }
    if cjk * 2 >= total {
        if hangul * 2 >= cjk {
            return "ko";
        }
        if kana * 5 >= cjk {
            return "ja";
        }
        return "zh";
    }
    if latin_words * 2 >= total {
        return "en";
    }
    "unknown"
}

/// Whether `c` is a CJK ideograph (the scripts where one character is roughly one word).
pub(crate) fn is_han(c: char) -> bool {
    matches!(c,
        '\u{4e00}'..='\u{9fff}'
        | '\u{3400}'..='\u{4dbf}'
        | '\u{f900}'..='\u{faff}'
        | '\u{20000}'..='\u{2ebef}')
}

/// Cleans a pair's fields the same way the rendered body is normalised, so that rendering is
/// stable and byte offsets computed by [`render_qa`] hold in the stored body.
fn clean_pair(pair: QaPair) -> QaPair {
    let question = normalise_inline(&pair.question);
    let mut alternatives: Vec<String> = Vec::new();
    for alt in pair.alternatives {
        let alt = normalise_inline(&alt);
        if !alt.is_empty() && alt != question && !alternatives.contains(&alt) {
            alternatives.push(alt);
        }
    }
    QaPair {
        question,
        answer: normalise_markdown(&pair.answer),
        alternatives,
        category: pair
            .category
            .map(|c| normalise_inline(&c))
            .filter(|c| !c.is_empty()),
    }
}

/// Renders Q&A pairs as a Markdown body and returns, for each pair, the byte range of its block.
///
/// Layout: a `# Category` heading whenever the category changes, then per pair a `## Question`
/// heading, an "Also asked:" line listing alternatives, and the answer. The per-pair ranges are
/// what [`crate::chunking::chunk_document`] turns into one chunk per pair.
pub fn render_qa(pairs: &[QaPair]) -> (String, Vec<(usize, usize)>) {
    let mut body = String::new();
    let mut spans = Vec::with_capacity(pairs.len());
    let mut current_category: Option<&str> = None;
    for pair in pairs {
        let category = pair.category.as_deref();
        if category.is_some() && category != current_category {
            if !body.is_empty() {
                body.push_str("\n\n");
            }
            body.push_str("# ");
            body.push_str(category.unwrap_or_default());
        }
        current_category = category;
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        let start = body.len();
        body.push_str("## ");
        body.push_str(&pair.question);
        if !pair.alternatives.is_empty() {
            body.push_str("\n\nAlso asked: ");
            body.push_str(&pair.alternatives.join(" | "));
        }
        if !pair.answer.is_empty() {
            body.push_str("\n\n");
            body.push_str(&pair.answer);
        }
        spans.push((start, body.len()));
    }
    (body, spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_is_idempotent_and_line_ending_blind() {
        let a = normalise_markdown("\u{feff}# T  \r\n\r\n\r\n\r\nbody\t \r\n");
        let b = normalise_markdown("# T\n\nbody\n");
        assert_eq!(a, b);
        assert_eq!(normalise_markdown(&a), a);
    }

    #[test]
    fn language_heuristic() {
        assert_eq!(detect_language("我们的API支持OAuth登录。"), "zh");
        assert_eq!(detect_language("How do I reset my password?"), "en");
        assert_eq!(detect_language("12345 !!!"), "unknown");
        assert_eq!(detect_language("パスワードを忘れた場合"), "ja");
    }

    #[test]
    fn hash_is_hex_sha256() {
        let h = content_hash("");
        assert_eq!(
            h,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn rendered_qa_body_is_already_normal() {
        let doc = ImportedDocument::qa_pairs(
            "faq",
            vec![QaPair {
                question: " How  to pay? ".into(),
                answer: "Card.\r\n\r\n\r\nOr cash.  ".into(),
                alternatives: vec!["payment".into(), "".into()],
                category: Some("Billing".into()),
            }],
            "faq.csv",
        );
        assert_eq!(normalise_markdown(&doc.body_markdown), doc.body_markdown);
        assert_eq!(
            doc.body_markdown,
            "# Billing\n\n## How to pay?\n\nAlso asked: payment\n\nCard.\n\nOr cash."
        );
    }
}

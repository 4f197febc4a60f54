//! Format detection and the single entry point for importing one file.
//!
//! Each submodule reads one format and exposes the same
//! `parse(bytes, name, opts) -> Result<Vec<ImportedDocument>, ImportError>`. [`import_file`]
//! wraps them with everything a background job needs to never fall over: a size check before
//! parsing, detection by content as well as by extension, a panic guard around third-party
//! parsers, and an "empty result" check, all reported as an [`ImportOutcome`].

pub mod docx;
pub mod html;
pub mod markdown;
pub mod pdf;
pub mod qa_table;
pub mod text;

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::{Deserialize, Serialize};

use crate::document::{DocumentKind, ImportWarning, ImportedDocument};
use crate::error::ImportError;
use crate::options::ImportOptions;

/// A file format we can import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// Markdown (`.md`, `.markdown`).
    Markdown,
    /// Plain text (`.txt`, or an extension-less UTF-8 file).
    Text,
    /// An HTML page (`.html`, `.htm`, or content starting like HTML).
    Html,
    /// PDF with a text layer.
    Pdf,
    /// Word 2007+ document.
    Docx,
    /// Q&A pairs in CSV/TSV.
    Csv,
    /// Q&A pairs in a spreadsheet (XLSX; XLS/XLSB/ODS are read by the same reader).
    Xlsx,
}

impl Format {
    /// Short human name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "Markdown",
            Format::Text => "text",
            Format::Html => "HTML",
            Format::Pdf => "PDF",
            Format::Docx => "DOCX",
            Format::Csv => "CSV",
            Format::Xlsx => "spreadsheet",
        }
    }
}

/// Guesses the format of a file from its name (a file name or URL) and content.
///
/// Content wins over the extension for binary formats, because uploads are often misnamed
/// (a PDF saved as `.txt`); the extension decides for text formats, where content sniffing is
/// unreliable. Returns `None` for things we do not read.
pub fn detect_format(name: &str, bytes: &[u8]) -> Option<Format> {
    let head = &bytes[..bytes.len().min(1024)];
    if find(head, b"%PDF-").is_some() {
        return Some(Format::Pdf);
    }
    let ext = extension(name);
    if bytes.starts_with(b"PK\x03\x04") {
        // Entry names in a zip are stored uncompressed, so a byte search finds them.
        if find(bytes, b"word/document.xml").is_some() {
            return Some(Format::Docx);
        }
        if find(bytes, b"xl/workbook.").is_some()
            || find(bytes, b"opendocument.spreadsheet").is_some()
        {
            return Some(Format::Xlsx);
        }
    }
    if bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) && matches!(ext.as_str(), "xls" | "") {
        return Some(Format::Xlsx);
    }
    let by_ext = match ext.as_str() {
        "md" | "markdown" | "mdown" | "mkd" | "mdx" => Some(Format::Markdown),
        "txt" | "text" => Some(Format::Text),
        "html" | "htm" | "xhtml" | "shtml" => Some(Format::Html),
        "pdf" => Some(Format::Pdf),
        "docx" => Some(Format::Docx),
        "csv" | "tsv" => Some(Format::Csv),
        "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Some(Format::Xlsx),
        _ => None,
    };
    if by_ext.is_some() {
        return by_ext;
    }
    if looks_like_html(head) {
        return Some(Format::Html);
    }
    // An unknown extension with text content is only accepted when there is no extension at
    // all (a URL path such as /help/refunds); `.exe` or `.json` stay unsupported.
    if ext.is_empty() && std::str::from_utf8(bytes).is_ok() {
        return Some(Format::Text);
    }
    None
}

/// The common signature of every format's `parse`.
type ParseFn = fn(&[u8], &str, &ImportOptions) -> Result<Vec<ImportedDocument>, ImportError>;

/// Result of importing one file: never a panic, always a reason when it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    /// The file name or URL given to [`import_file`].
    pub source: String,
    /// Detected format, if any.
    pub format: Option<Format>,
    /// The documents, or why there are none.
    pub result: Result<Vec<ImportedDocument>, ImportError>,
}

impl ImportOutcome {
    /// Whether the file produced documents.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The documents (empty on failure).
    pub fn documents(&self) -> &[ImportedDocument] {
        self.result.as_deref().unwrap_or(&[])
    }

    /// The error, if the file failed.
    pub fn error(&self) -> Option<&ImportError> {
        self.result.as_ref().err()
    }

    /// All warnings of all documents of this file.
    pub fn warnings(&self) -> impl Iterator<Item = &ImportWarning> {
        self.documents().iter().flat_map(|d| d.warnings.iter())
    }
}

/// Imports one file. Never panics: every failure, including a parser panic, becomes
/// [`ImportOutcome::result`]'s error.
pub fn import_file(name: &str, bytes: &[u8], opts: &ImportOptions) -> ImportOutcome {
    import_as(name, bytes, None, opts)
}

/// [`import_file`] with the format decided by the caller when it knows better than the name
/// (a fetched page whose server said `text/html` at an address without an extension).
/// `None` detects as [`import_file`] does.
pub fn import_as(
    name: &str,
    bytes: &[u8],
    format: Option<Format>,
    opts: &ImportOptions,
) -> ImportOutcome {
    let mut outcome = ImportOutcome {
        source: name.to_string(),
        format: None,
        result: Err(ImportError::Empty { detail: None }),
    };
    if bytes.len() > opts.max_file_bytes {
        outcome.result = Err(ImportError::TooLarge {
            size: bytes.len(),
            limit: opts.max_file_bytes,
        });
        return outcome;
    }
    let Some(format) = format.or_else(|| detect_format(name, bytes)) else {
        outcome.result = Err(ImportError::Unsupported {
            reason: unsupported_reason(name),
        });
        return outcome;
    };
    outcome.format = Some(format);
    if bytes.is_empty() {
        return outcome;
    }
    let parser: ParseFn = match format {
        Format::Markdown => markdown::parse,
        Format::Text => text::parse,
        Format::Html => html::parse,
        Format::Pdf => pdf::parse,
        Format::Docx => docx::parse,
        Format::Csv | Format::Xlsx => qa_table::parse,
    };
    let parsed = guarded(format, || parser(bytes, name, opts));
    outcome.result = parsed.and_then(drop_empty);
    outcome
}

/// Runs a parser so that a panic inside it becomes [`ImportError::ParserPanic`].
///
/// Third-party parsers (pdf-extract above all) can panic on hostile input; the panic must cost
/// this file only. Parsers only read their inputs, so no state is left half-updated.
fn guarded(
    format: Format,
    parse: impl FnOnce() -> Result<Vec<ImportedDocument>, ImportError>,
) -> Result<Vec<ImportedDocument>, ImportError> {
    catch_unwind(AssertUnwindSafe(parse)).unwrap_or_else(|payload| {
        Err(ImportError::ParserPanic {
            format: format.name().to_string(),
            message: panic_message(payload.as_ref()),
        })
    })
}

/// Turns "parsed but nothing in it" into a clear error instead of an empty document.
fn drop_empty(docs: Vec<ImportedDocument>) -> Result<Vec<ImportedDocument>, ImportError> {
    let has_content = |d: &ImportedDocument| match &d.kind {
        DocumentKind::Article => d.body_markdown.chars().any(char::is_alphanumeric),
        DocumentKind::QaPairs(pairs) => !pairs.is_empty(),
    };
    let skipped: Vec<String> = docs
        .iter()
        .flat_map(|d| d.warnings.iter().map(|w| w.message.clone()))
        .take(3)
        .collect();
    let kept: Vec<ImportedDocument> = docs.into_iter().filter(has_content).collect();
    if kept.is_empty() {
        let detail = (!skipped.is_empty()).then(|| skipped.join("; "));
        return Err(ImportError::Empty { detail });
    }
    Ok(kept)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

fn unsupported_reason(name: &str) -> String {
    match extension(name).as_str() {
        "" => "could not tell the file type from its name or content".to_string(),
        "doc" => "legacy Word .doc; save it as .docx".to_string(),
        "ppt" | "pptx" => "presentations are not supported; export as PDF".to_string(),
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "tif" | "tiff" | "bmp" => {
            "images are not supported (no OCR)".to_string()
        }
        ext => format!(".{ext} files are not supported"),
    }
}

/// Lowercase extension of a file name or URL path, without the dot ("" when none).
pub(crate) fn extension(name: &str) -> String {
    let last = last_segment(name);
    match last.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// File name without directory, query string or extension: the fallback title.
pub(crate) fn file_stem(name: &str) -> String {
    let last = last_segment(name);
    let stem = match last.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => last,
    };
    if stem.trim().is_empty() {
        name.trim().to_string()
    } else {
        stem.trim().to_string()
    }
}

fn last_segment(name: &str) -> &str {
    let name = name.split(['?', '#']).next().unwrap_or(name);
    let name = name.trim_end_matches('/');
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// The first non-empty line when it is short enough to be a title.
pub(crate) fn title_from_first_line(text: &str, fallback: &str) -> String {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    match first {
        Some(line) if line.chars().count() <= 100 && line.chars().any(char::is_alphabetic) => {
            line.trim_start_matches('#').trim().to_string()
        }
        _ => file_stem(fallback),
    }
}

fn looks_like_html(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    text.starts_with("<!doctype html") || text.starts_with("<html")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_by_extension_and_magic() {
        assert_eq!(detect_format("a.md", b"# x"), Some(Format::Markdown));
        assert_eq!(detect_format("A.TXT", b"x"), Some(Format::Text));
        assert_eq!(
            detect_format("notes.txt", b"%PDF-1.4 ..."),
            Some(Format::Pdf)
        );
        assert_eq!(
            detect_format("x.bin", b"PK\x03\x04....word/document.xml"),
            Some(Format::Docx)
        );
        assert_eq!(
            detect_format("x", b"PK\x03\x04....xl/workbook.xml"),
            Some(Format::Xlsx)
        );
        assert_eq!(
            detect_format("https://h/help/refunds?x=1", b"<!DOCTYPE html><p>x"),
            Some(Format::Html)
        );
        assert_eq!(
            detect_format("https://h/help/refunds", b"plain"),
            Some(Format::Text)
        );
        assert_eq!(detect_format("tool.exe", b"MZ\x90\x00"), None);
        assert_eq!(detect_format("data.json", b"{}"), None);
    }

    #[test]
    fn names_and_stems() {
        assert_eq!(extension("dir/a.b/Guide.PDF"), "pdf");
        assert_eq!(extension(".bashrc"), "");
        assert_eq!(file_stem("https://x.y/docs/billing.html?a=1#t"), "billing");
        assert_eq!(file_stem("C:\\docs\\退款政策.docx"), "退款政策");
    }

    #[test]
    fn parser_panic_becomes_that_files_error() {
        let result = guarded(Format::Pdf, || panic!("bad xref at {}", 7));
        let err = result.unwrap_err();
        assert_eq!(err.code(), "parser_crashed");
        assert!(err.to_string().contains("PDF parser crashed"));
        assert!(err.to_string().contains("bad xref at 7"));
    }

    #[test]
    fn unsupported_explains() {
        let out = import_file("old.doc", b"\x01\x02", &ImportOptions::default());
        assert_eq!(out.error().map(ImportError::code), Some("unsupported_type"));
        assert!(out.error().unwrap().to_string().contains(".docx"));
    }
}

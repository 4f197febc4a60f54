//! PDF files: the text layer, page by page, via pdf-extract.
//!
//! There is no OCR: a scanned PDF has pages but no text, and we say so
//! ([`ImportError::NoTextLayer`]) instead of importing an empty document. pdf-extract can panic
//! on malformed files; [`crate::import_file`] contains that, so this module need not.

use crate::document::{ImportWarning, ImportedDocument};
use crate::error::ImportError;
use crate::formats::title_from_first_line;
use crate::options::ImportOptions;

/// Parses a PDF's text layer into one article; pages are separated by blank lines.
pub fn parse(
    bytes: &[u8],
    name: &str,
    _opts: &ImportOptions,
) -> Result<Vec<ImportedDocument>, ImportError> {
    if !bytes.starts_with(b"%PDF")
        && !bytes[..bytes.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
    {
        return Err(ImportError::corrupt("PDF", "no %PDF header"));
    }
    let pages = pdf_extract::extract_text_from_mem_by_pages(bytes).map_err(|e| {
        let reason = e.to_string();
        if reason.to_ascii_lowercase().contains("encrypt") {
            ImportError::corrupt("PDF", "the PDF is encrypted; remove the password and retry")
        } else {
            ImportError::corrupt("PDF", reason)
        }
    })?;
    let page_count = pages.len();
    let empty_pages = pages.iter().filter(|p| p.trim().is_empty()).count();
    let body = pages
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    if !body.chars().any(char::is_alphanumeric) {
        return Err(ImportError::NoTextLayer);
    }
    let mut warnings = Vec::new();
    if empty_pages > 0 {
        warnings.push(ImportWarning::file(format!(
            "{empty_pages} of {page_count} pages have no text layer (scanned?) and were skipped"
        )));
    }
    let title = title_from_first_line(&body, name);
    Ok(vec![
        ImportedDocument::article(title, &body, name).with_warnings(warnings),
    ])
}

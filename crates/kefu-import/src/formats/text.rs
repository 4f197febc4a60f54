//! Plain-text files: paragraphs separated by blank lines.
//!
//! The text is kept as written (it is valid Markdown paragraphs); normalisation only fixes line
//! endings and blank-line runs. The title is the first line when it is short, else the file name.

use crate::decode::decode_text;
use crate::document::ImportedDocument;
use crate::error::ImportError;
use crate::formats::title_from_first_line;
use crate::options::ImportOptions;

/// Parses a plain-text file into one article.
pub fn parse(
    bytes: &[u8],
    name: &str,
    _opts: &ImportOptions,
) -> Result<Vec<ImportedDocument>, ImportError> {
    let (text, warning) = decode_text(bytes);
    let title = title_from_first_line(&text, name);
    let doc =
        ImportedDocument::article(title, &text, name).with_warnings(warning.into_iter().collect());
    Ok(vec![doc])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_is_title_paragraphs_kept() {
        let docs = parse(
            "退货政策\r\n\r\n\r\n七天无理由退货。\r\n运费由买家承担。".as_bytes(),
            "policy.txt",
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!(docs[0].title, "退货政策");
        assert_eq!(
            docs[0].body_markdown,
            "退货政策\n\n七天无理由退货。\n运费由买家承担。"
        );
        assert_eq!(docs[0].language, "zh");
    }

    #[test]
    fn long_first_line_falls_back_to_file_name() {
        let long = "word ".repeat(50);
        let docs = parse(long.as_bytes(), "notes.txt", &ImportOptions::default()).unwrap();
        assert_eq!(docs[0].title, "notes");
    }
}

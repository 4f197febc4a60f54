//! Turning the bytes of a text-based file (Markdown, text, HTML, CSV) into a `String`.
//!
//! Files uploaded by Chinese-speaking teams are often not UTF-8: Excel on Windows saves CSV as
//! GBK, Notepad may save UTF-16. Decoding them as lossy UTF-8 would silently fill the knowledge
//! base with "�", so we honour a BOM, accept valid UTF-8, then try GB18030 (a superset of GBK),
//! and only fall back to lossy UTF-8 with a warning.

use encoding_rs::{Encoding, GB18030, UTF_8};

use crate::document::ImportWarning;

/// Decodes `bytes` as text, returning a warning when the encoding was guessed or lossy.
pub(crate) fn decode_text(bytes: &[u8]) -> (String, Option<ImportWarning>) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        let warning = had_errors.then(|| {
            ImportWarning::file(format!(
                "some bytes were not valid {}; they were replaced",
                encoding.name()
            ))
        });
        return (text.into_owned(), warning);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_owned(), None);
    }
    let (text, had_errors) = GB18030.decode_without_bom_handling(bytes);
    if !had_errors {
        return (
            text.into_owned(),
            Some(ImportWarning::file(
                "file is not UTF-8; decoded as GB18030/GBK",
            )),
        );
    }
    let (text, _) = UTF_8.decode_without_bom_handling(bytes);
    (
        text.into_owned(),
        Some(ImportWarning::file(
            "file is not valid UTF-8 or GBK; unreadable bytes were replaced",
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_csv_from_windows_excel_is_read() {
        let (bytes, _, _) = GB18030.encode("问题,答案\n退款,七天内");
        let (text, warning) = decode_text(&bytes);
        assert_eq!(text, "问题,答案\n退款,七天内");
        assert!(warning.is_some());
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xff, 0xfe];
        for unit in "你好 hi".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode_text(&bytes).0, "你好 hi");
    }

    #[test]
    fn utf8_bom_is_dropped() {
        assert_eq!(decode_text(b"\xef\xbb\xbfabc"), ("abc".to_string(), None));
    }
}

//! Recognising an upload's type from its first bytes. The client's Content-Type and file
//! extension are never trusted to say what a file is: a renamed executable or an HTML page
//! called `photo.png` is recognised as what it is and refused unless the site allows it. The
//! one use of the name is choosing between the two text kinds (`.csv` or plain text) once the
//! bytes are known to be text.

use kefu_core::domain::FileKind;

/// Bytes of the file's start kept for recognition. Office files name their parts in the first
/// few zip headers; 64 KiB covers the extra fields some writers add.
pub const HEAD_BYTES: usize = 64 * 1024;

/// What the bytes are, or `None` for anything Kefu does not recognise (executables, archives,
/// binary junk, UTF-16 text…), which is refused whatever the site allows. `complete` says
/// whether `head` is the whole file (else its last character may be cut).
pub fn detect(head: &[u8], name: &str, complete: bool) -> Option<FileKind> {
    if head.is_empty() {
        return None;
    }
    // Office files are zips; ask for them by name before the generic matchers say "zip".
    if infer::doc::is_docx(head) {
        return Some(FileKind::Docx);
    }
    if infer::doc::is_xlsx(head) {
        return Some(FileKind::Xlsx);
    }
    if let Some(found) = infer::get(head) {
        return match found.mime_type() {
            "image/png" => Some(FileKind::Png),
            "image/jpeg" => Some(FileKind::Jpeg),
            "image/gif" => Some(FileKind::Gif),
            "image/webp" => Some(FileKind::Webp),
            "application/pdf" => Some(FileKind::Pdf),
            "text/html" => Some(FileKind::Html),
            "text/xml" if mentions_svg(head) => Some(FileKind::Svg),
            _ => None,
        };
    }
    let text = as_text(head, complete)?;
    let start = text.trim_start().to_ascii_lowercase();
    if start.starts_with('<') {
        // Markup the generic matchers missed (`<svg …>` without an XML prolog, or HTML that
        // opens with a tag they do not list) is still markup a browser would run.
        if mentions_svg(head) {
            return Some(FileKind::Svg);
        }
        if [
            "<!doctype",
            "<html",
            "<script",
            "<iframe",
            "<object",
            "<embed",
            "<meta",
        ]
        .iter()
        .any(|tag| start.starts_with(tag))
        {
            return Some(FileKind::Html);
        }
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".csv") || lower.ends_with(".tsv") {
        Some(FileKind::Csv)
    } else {
        Some(FileKind::Txt)
    }
}

fn mentions_svg(head: &[u8]) -> bool {
    head.windows(4).any(|w| w.eq_ignore_ascii_case(b"<svg"))
}

/// UTF-8 text without NULs or control characters other than whitespace and form feed; a BOM
/// is allowed. A multi-byte character cut at the end of an incomplete head is fine.
fn as_text(head: &[u8], complete: bool) -> Option<&str> {
    let bytes = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) if !complete && e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    let clean = !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'));
    clean.then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1×1 PNG.
    pub const PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89,
    ];

    #[test]
    fn images_and_pdf_are_known_by_their_magic_bytes() {
        assert_eq!(detect(PNG, "x.txt", true), Some(FileKind::Png));
        assert_eq!(
            detect(b"\xFF\xD8\xFF\xE0\0\x10JFIF", "a", true),
            Some(FileKind::Jpeg)
        );
        assert_eq!(
            detect(b"GIF89a\x01\0\x01\0", "a", true),
            Some(FileKind::Gif)
        );
        assert_eq!(
            detect(b"RIFF\x24\0\0\0WEBPVP8 ", "a", true),
            Some(FileKind::Webp)
        );
        assert_eq!(detect(b"%PDF-1.7\n", "a.png", true), Some(FileKind::Pdf));
    }

    #[test]
    fn executables_and_archives_named_as_images_are_not_recognised() {
        let mut exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF".to_vec();
        exe.resize(512, 0);
        assert_eq!(detect(&exe, "photo.png", true), None);
        let elf = b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        assert_eq!(detect(elf, "photo.png", true), None);
        let zip = b"PK\x03\x04\x14\0\0\0\x08\0abcdefgh";
        assert_eq!(detect(zip, "photo.png", true), None);
    }

    #[test]
    fn markup_is_recognised_whatever_its_name() {
        for page in [
            "<!DOCTYPE html><script>alert(1)</script>",
            "  <html><body>x</body></html>",
            "<script>alert(1)</script>",
            "<iframe src=x></iframe>",
        ] {
            assert_eq!(
                detect(page.as_bytes(), "photo.png", true),
                Some(FileKind::Html),
                "{page}"
            );
        }
        assert_eq!(
            detect(
                b"<?xml version=\"1.0\"?><svg onload=\"alert(1)\"/>",
                "a.png",
                true
            ),
            Some(FileKind::Svg)
        );
        assert_eq!(
            detect(
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
                "a.txt",
                true
            ),
            Some(FileKind::Svg)
        );
    }

    #[test]
    fn text_is_plain_or_csv_by_name_and_binary_junk_is_neither() {
        assert_eq!(
            detect("你好, world\n".as_bytes(), "a.txt", true),
            Some(FileKind::Txt)
        );
        assert_eq!(detect(b"a,b\n1,2\n", "Data.CSV", true), Some(FileKind::Csv));
        assert_eq!(detect(b"<3 thanks", "a.txt", true), Some(FileKind::Txt));
        assert_eq!(detect(b"a\0b", "a.txt", true), None);
        assert_eq!(detect(b"\xFF\xFEa\0b\0", "a.txt", true), None);
        // A character cut by the end of the head is fine only when more bytes follow.
        let cut = &"好".as_bytes()[..2];
        assert_eq!(detect(cut, "a.txt", false), Some(FileKind::Txt));
        assert_eq!(detect(cut, "a.txt", true), None);
        assert_eq!(detect(b"", "a.txt", true), None);
    }

    #[test]
    fn office_files_written_by_real_libraries_are_recognised() {
        let mut xlsx = rust_xlsxwriter::Workbook::new();
        xlsx.add_worksheet().write_string(0, 0, "hi").unwrap();
        let xlsx = xlsx.save_to_buffer().unwrap();
        assert_eq!(detect(&xlsx, "a.bin", true), Some(FileKind::Xlsx));

        let mut docx = std::io::Cursor::new(Vec::new());
        docx_rs::Docx::new()
            .add_paragraph(docx_rs::Paragraph::new().add_run(docx_rs::Run::new().add_text("hi")))
            .build()
            .pack(&mut docx)
            .unwrap();
        assert_eq!(detect(docx.get_ref(), "a.bin", true), Some(FileKind::Docx));
    }
}

//! Property tests: the chunker's invariants and importers that never panic.

use kefu_import::{ChunkOptions, ImportOptions, chunk, import_file};
use proptest::prelude::*;

/// Markdown-ish text: headings, list items, table rows, Chinese and English sentences, long
/// unbroken runs, stray whitespace.
fn markdownish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z ]{0,40}[.!?;]? ",
        "[汉字中文退款发货]{0,30}[。！？；，]?",
        Just("\n\n".to_string()),
        Just("\n".to_string()),
        "#{1,3} [A-Za-z标题]{1,10}\n\n",
        "- [a-z项目]{1,20}\n",
        Just("| a | b |\n| --- | --- |\n| 1 | 2 |\n| 3 | 4 |\n\n".to_string()),
        "[x]{50,300}",
        "[ \t\u{3000}]{1,3}",
        "```\n[a-z \n]{0,60}\n```\n",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn chunk_opts() -> impl Strategy<Value = ChunkOptions> {
    (1usize..300, 0usize..150, 0usize..120).prop_map(|(max_chars, overlap_chars, min_chars)| {
        ChunkOptions {
            max_chars,
            overlap_chars,
            min_chars,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn chunker_covers_text_in_order_within_max(body in markdownish(), opts in chunk_opts()) {
        let chunks = chunk(&body, &opts);
        let chars: Vec<char> = body.chars().collect();
        let mut covered = vec![false; chars.len()];
        let mut last = (0usize, 0usize);
        for (i, c) in chunks.iter().enumerate() {
            prop_assert_eq!(c.index, i);
            prop_assert!(c.text.chars().count() <= opts.max_chars.max(1),
                "chunk {} has {} chars > {}", i, c.text.chars().count(), opts.max_chars);
            prop_assert!(c.char_start < c.char_end && c.char_end <= chars.len());
            prop_assert!(c.char_start >= last.0 && c.char_end >= last.1, "out of order");
            last = (c.char_start, c.char_end);
            let slice: String = chars[c.char_start..c.char_end].iter().collect();
            prop_assert!(c.text.ends_with(&slice));
            for flag in &mut covered[c.char_start..c.char_end] {
                *flag = true;
            }
        }
        for (i, ch) in chars.iter().enumerate() {
            prop_assert!(covered[i] || ch.is_whitespace(), "char {} ({:?}) not covered", i, ch);
        }
    }

    #[test]
    fn chunker_never_panics_on_any_string(body in any::<String>(), opts in chunk_opts()) {
        let _ = chunk(&body, &opts);
    }

    #[test]
    fn import_file_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..3000),
        ext in prop::sample::select(vec!["md", "txt", "html", "pdf", "docx", "csv", "tsv", "xlsx", "xls", ""]),
        magic in prop::sample::select(vec![&b""[..], b"%PDF-1.4\n", b"PK\x03\x04", b"<html>", b"\xef\xbb\xbf"]),
    ) {
        let mut data = magic.to_vec();
        data.extend_from_slice(&bytes);
        let name = if ext.is_empty() { "upload".to_string() } else { format!("f.{ext}") };
        let out = import_file(&name, &data, &ImportOptions::default());
        if let Err(e) = &out.result {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}

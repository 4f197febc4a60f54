//! A batch keeps going past bad files and reports each one with a reason.

use std::cell::RefCell;

use kefu_import::{ImportOptions, Progress, ProgressStage, import_batch};

use crate::fixtures::{self, DocxBlock};

#[test]
fn one_bad_file_never_stops_the_batch() {
    let docx = fixtures::docx(&[DocxBlock::Para(None, "Good Word file.")]);
    let truncated_docx = docx[..docx.len() / 2].to_vec();
    let random_pdf: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let files = vec![
        ("ok.md".to_string(), b"# Fine\n\nHello.".to_vec()),
        ("broken.docx".to_string(), truncated_docx),
        ("random.pdf".to_string(), random_pdf),
        ("huge.txt".to_string(), vec![b'a'; 100_000]),
        ("tool.exe".to_string(), b"MZ\x90\x00".to_vec()),
        ("blank.txt".to_string(), b"   \n\n  ".to_vec()),
        ("ok.docx".to_string(), docx),
        ("faq.csv".to_string(), b"question,answer\nq,a\n".to_vec()),
    ];
    let opts = ImportOptions {
        max_file_bytes: 65_536,
        ..ImportOptions::default()
    };
    let events = RefCell::new(Vec::<Progress>::new());
    let report = import_batch(files, &opts, &|p| events.borrow_mut().push(p));

    let codes: Vec<(&str, Option<&str>)> = report
        .files
        .iter()
        .map(|f| (f.source.as_str(), f.error().map(|e| e.code())))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("ok.md", None),
            ("broken.docx", Some("corrupt_file")),
            ("random.pdf", Some("corrupt_file")),
            ("huge.txt", Some("too_large")),
            ("tool.exe", Some("unsupported_type")),
            ("blank.txt", Some("empty_text")),
            ("ok.docx", None),
            ("faq.csv", None),
        ]
    );
    assert_eq!(report.succeeded().count(), 3);
    assert_eq!(report.failed().count(), 5);
    assert_eq!(report.documents().count(), 3);
    assert!(
        report.files[3]
            .error()
            .unwrap()
            .to_string()
            .contains("65536")
    );

    let events = events.into_inner();
    assert_eq!(events.len(), 16, "a start and a finish per file");
    assert!(events.iter().all(|e| e.total == Some(8)));
    let last = events.last().unwrap();
    assert_eq!((last.succeeded, last.failed), (3, 5));
    assert_eq!(events[3].stage, ProgressStage::Finished { ok: false });
    assert_eq!(events[3].name, "broken.docx");
}

#[test]
fn lazy_iterator_without_known_length() {
    let files = (0..3)
        .filter(|_| true)
        .map(|i| (format!("f{i}.txt"), format!("file {i}").into_bytes()));
    let report = import_batch(files, &ImportOptions::default(), &|p| {
        assert_eq!(p.total, None)
    });
    assert_eq!(report.succeeded().count(), 3);
}

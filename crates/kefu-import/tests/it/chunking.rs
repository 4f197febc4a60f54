//! The chunker respects structure: headings, lists, table rows, Chinese and English sentences.

use kefu_import::{Chunk, ChunkOptions, chunk};

fn opts(max: usize, overlap: usize) -> ChunkOptions {
    ChunkOptions {
        max_chars: max,
        overlap_chars: overlap,
        min_chars: 0,
    }
}

fn char_slice(body: &str, c: &Chunk) -> String {
    body.chars()
        .skip(c.char_start)
        .take(c.char_end - c.char_start)
        .collect()
}

fn assert_offsets(body: &str, chunks: &[Chunk]) {
    for c in chunks {
        let slice = char_slice(body, c);
        assert!(
            c.text.ends_with(&slice),
            "chunk {} text/offset mismatch",
            c.index
        );
    }
}

#[test]
fn chunks_carry_heading_paths_and_never_span_sections() {
    let refunds = "Refunds are paid within five days. ".repeat(8);
    let body = format!(
        "# Billing\n\nWe bill monthly on the first day of each month, in advance.\n\n\
         ## Refunds\n\n{refunds}\n\n## Invoices\n\nInvoices are e-mailed as PDF files.\n\n\
         # Account\n\nChange your e-mail under Settings, then confirm the link we send."
    );
    let chunks = chunk(&body, &opts(150, 0));
    assert_offsets(&body, &chunks);
    let paths: Vec<Vec<&str>> = chunks
        .iter()
        .map(|c| c.heading_path.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(paths.first().unwrap(), &vec!["Billing"]);
    assert!(paths.contains(&vec!["Billing", "Refunds"]));
    assert!(paths.contains(&vec!["Billing", "Invoices"]));
    assert_eq!(paths.last().unwrap(), &vec!["Account"]);
    for c in &chunks {
        let headings = c.text.lines().filter(|l| l.starts_with('#')).count();
        assert!(headings <= 1, "chunk spans two sections: {:?}", c.text);
        if c.heading_path == ["Billing", "Refunds"] {
            assert!(!c.text.contains("Invoices") && !c.text.contains("bill monthly"));
        }
    }
    assert!(chunks.iter().all(|c| c.text.chars().count() <= 150));
}

#[test]
fn lone_parent_heading_merges_into_first_child_section() {
    let body = "# Billing\n\n## Refunds\n\nRefunds are paid within five days of the request.";
    let chunks = chunk(body, &ChunkOptions::default());
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].heading_path, vec!["Billing", "Refunds"]);
    assert_eq!(chunks[0].text, body);
}

#[test]
fn long_chinese_paragraph_splits_at_sentence_punctuation() {
    let sentences = [
        "本店所有商品均支持七天无理由退货服务。",
        "退货时请保持商品完好并附上原始包装！",
        "您是否需要上门取件服务？",
        "上门取件需要提前一天预约；",
        "退款将在收到退货后三个工作日内原路返回。",
    ];
    let body: String = sentences.iter().cycle().take(25).copied().collect();
    assert!(body.chars().count() > 400);
    let chunks = chunk(&body, &opts(60, 0));
    assert!(chunks.len() >= 7);
    assert_offsets(&body, &chunks);
    for c in &chunks {
        let n = c.text.chars().count();
        assert!(n <= 60, "{n} chars");
        let last = c.text.chars().last().unwrap();
        assert!("。！？；".contains(last), "cut mid-sentence: {:?}", c.text);
        assert!(
            sentences.iter().any(|s| c.text.starts_with(s)),
            "starts mid-sentence: {:?}",
            c.text
        );
    }
    let rebuilt: String = chunks.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(rebuilt, body, "no overlap requested: chunks tile the text");
}

#[test]
fn long_table_keeps_rows_whole_and_repeats_header() {
    let mut body =
        String::from("Shipping fees by region:\n\n| 地区 | 运费 | 时效 |\n| --- | --- | --- |\n");
    let rows: Vec<String> = (0..40)
        .map(|i| {
            format!(
                "| 区域{i:02} 城市与乡镇 | {}元 | {} 天 |",
                10 + i,
                1 + i % 5
            )
        })
        .collect();
    body.push_str(&rows.join("\n"));
    body.push_str("\n\nRemote islands cost extra.");
    let chunks = chunk(&body, &opts(200, 30));
    assert_offsets(&body, &chunks);
    let table_chunks: Vec<&Chunk> = chunks
        .iter()
        .filter(|c| c.text.contains("| --- |"))
        .collect();
    assert!(table_chunks.len() >= 4, "a long table spans several chunks");
    for c in &table_chunks {
        assert!(c.text.chars().count() <= 200);
        assert!(
            c.text
                .starts_with("| 地区 | 运费 | 时效 |\n| --- | --- | --- |"),
            "header row missing: {:?}",
            c.text
        );
        for line in c.text.lines().skip(2) {
            assert!(rows.iter().any(|r| r == line), "cut row: {line:?}");
        }
    }
    for row in &rows {
        let holders = table_chunks
            .iter()
            .filter(|c| c.text.lines().any(|l| l == row))
            .count();
        assert_eq!(holders, 1, "every row in exactly one chunk: {row}");
    }
    assert!(chunks.last().unwrap().text.contains("Remote islands"));
    assert!(
        !table_chunks
            .iter()
            .any(|c| c.text.contains("Remote islands"))
    );
}

#[test]
fn list_kept_together_when_it_fits() {
    let intro = "Before you contact support, please collect the details below. ".repeat(2);
    let list =
        "- order number\n- e-mail address\n- device model\n- a screenshot\n- the time it happened";
    let body = format!("{intro}\n\n{list}\n\nThen write to us.");
    let chunks = chunk(&body, &opts(140, 0));
    assert!(
        chunks.iter().any(|c| c.text.contains(list)),
        "the list must stay in one chunk: {chunks:#?}"
    );
}

#[test]
fn overlap_repeats_whole_trailing_sentences() {
    let sentences: Vec<String> = (1..=12)
        .map(|i| format!("Sentence number {i} is about topic {i}."))
        .collect();
    let body = sentences.join(" ");
    let chunks = chunk(&body, &opts(120, 45));
    assert!(chunks.len() >= 3);
    assert_offsets(&body, &chunks);
    for pair in chunks.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        assert!(next.char_start < prev.char_end, "chunks overlap");
        let overlap: String = body
            .chars()
            .skip(next.char_start)
            .take(prev.char_end - next.char_start)
            .collect();
        assert!(overlap.chars().count() <= 45);
        assert!(prev.text.ends_with(&overlap));
        assert!(
            sentences.iter().any(|s| overlap.starts_with(s.as_str())),
            "overlap must start at a sentence: {overlap:?}"
        );
        assert!(next.text.chars().count() <= 120);
    }
}

#[test]
fn hard_split_only_for_unbreakable_runs() {
    let token = "x".repeat(250);
    let body = format!("Short intro sentence.\n\n{token}\n\nShort outro.");
    let chunks = chunk(&body, &opts(100, 0));
    assert_offsets(&body, &chunks);
    assert!(chunks.iter().all(|c| c.text.chars().count() <= 100));
    assert_eq!(chunks[0].text, "Short intro sentence.");
    let xs: usize = chunks.iter().map(|c| c.text.matches('x').count()).sum();
    assert_eq!(xs, 250, "nothing lost");
}

#[test]
fn offsets_count_characters_in_mixed_text() {
    let body = "# 标题\n\n第一段。Second paragraph here.\n\n## 小节\n\n内容在这里。";
    let chunks = chunk(body, &opts(12, 0));
    assert_offsets(body, &chunks);
    let total = body.chars().count();
    assert_eq!(chunks.last().unwrap().char_end, total);
}

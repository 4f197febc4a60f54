//! Full-text search behaviour users notice: Chinese segmentation recall, English stemming,
//! custom words, synonyms and the matched-terms report.

use kefu_search::{ChunkIndex, Filter, Lexicon, SearchQuery};

use crate::support::{chunk, ids};

fn index_with(lexicon: &Lexicon, docs: Vec<kefu_search::ChunkDoc>) -> ChunkIndex {
    let index = ChunkIndex::in_ram(lexicon).unwrap();
    index.rebuild(docs).unwrap();
    index
}

fn search(index: &ChunkIndex, text: &str) -> Vec<kefu_search::Hit> {
    index
        .search(&SearchQuery::new(text, Filter::visitor("s1")))
        .unwrap()
}

#[test]
fn chinese_long_word_is_found_by_its_parts() {
    let index = index_with(
        &Lexicon::new(),
        vec![
            chunk("s1", "sjtu", 1, "学校介绍", "上海交通大学位于上海。"),
            chunk("s1", "other", 1, "物流", "快递一般三天送达。"),
        ],
    );
    for query in ["交通大学", "交通", "大学", "上海交通大学"] {
        let hits = search(&index, query);
        assert_eq!(ids(&hits), ["sjtu-1"], "query {query}");
    }
}

#[test]
fn english_stemming_matches_inflections() {
    let index = index_with(
        &Lexicon::new(),
        vec![
            chunk(
                "s1",
                "refund",
                1,
                "Refund policy",
                "We refund orders within 7 days.",
            ),
            chunk("s1", "ship", 1, "Shipping", "Parcels ship in two days."),
        ],
    );
    let hits = search(&index, "REFUNDS");
    assert_eq!(ids(&hits), ["refund-1"]);
    assert_eq!(hits[0].matched_terms, ["refund"]);
    assert_eq!(ids(&search(&index, "shipped")), ["ship-1"]);
}

#[test]
fn custom_word_changes_segmentation_of_index_and_query() {
    let docs = || {
        vec![
            chunk("s1", "huabei", 1, "还款", "蚂蚁花呗可以分期还款。"),
            chunk("s1", "ants", 1, "昆虫", "蚂蚁是一种昆虫。"),
        ]
    };
    let lexicon = Lexicon::new().with_word("蚂蚁花呗");
    let index = index_with(&lexicon, docs());
    let hits = search(&index, "蚂蚁花呗");
    assert_eq!(hits[0].chunk_id, "huabei-1");
    assert!(
        hits[0].matched_terms.contains(&"蚂蚁花呗".to_string()),
        "{:?}",
        hits[0].matched_terms
    );
    // The whole word is a term only in the index built with the custom word.
    let plain = index_with(&Lexicon::new(), docs());
    let plain_hits = search(&plain, "蚂蚁花呗");
    assert!(
        plain_hits
            .iter()
            .all(|h| !h.matched_terms.contains(&"蚂蚁花呗".to_string())),
        "{plain_hits:?}"
    );
}

#[test]
fn synonyms_find_entries_worded_differently() {
    let lexicon = Lexicon::new()
        .with_word("蚂蚁花呗")
        .with_synonyms(["花呗", "蚂蚁花呗"])
        .with_synonyms(["refund", "money back"]);
    let index = index_with(
        &lexicon,
        vec![
            chunk("s1", "huabei", 1, "还款", "蚂蚁花呗可以分期还款。"),
            chunk(
                "s1",
                "guarantee",
                1,
                "Guarantee",
                "Not happy? Get your money back.",
            ),
            chunk("s1", "other", 1, "Misc", "Opening hours are nine to five."),
        ],
    );
    let hits = search(&index, "Refunds");
    assert_eq!(ids(&hits), ["guarantee-1"]);
    assert_eq!(hits[0].matched_terms, ["money", "back"]);

    let hits = search(&index, "花呗怎么还");
    assert_eq!(hits[0].chunk_id, "huabei-1");
    assert!(hits[0].matched_terms.contains(&"蚂蚁花呗".to_string()));

    // Without the synonym the English entry is not found.
    let plain = index_with(
        &Lexicon::new(),
        vec![chunk(
            "s1",
            "guarantee",
            1,
            "Guarantee",
            "Get your money back.",
        )],
    );
    assert!(search(&plain, "refund").is_empty());
}

#[test]
fn matched_terms_list_only_terms_present_in_that_chunk() {
    let index = index_with(
        &Lexicon::new(),
        vec![
            chunk("s1", "a", 1, "退款", "退款需要三个工作日。"),
            chunk("s1", "b", 1, "发票", "发票可以在订单页面下载。"),
        ],
    );
    let hits = search(&index, "退款 发票 invoice");
    assert_eq!(hits.len(), 2);
    let terms_of = |id: &str| {
        hits.iter()
            .find(|h| h.chunk_id == id)
            .map(|h| h.matched_terms.clone())
            .unwrap_or_default()
    };
    assert_eq!(terms_of("a-1"), ["退款"]);
    assert_eq!(terms_of("b-1"), ["发票"]);
}

#[test]
fn title_matches_rank_above_body_matches() {
    let index = index_with(
        &Lexicon::new(),
        vec![
            chunk(
                "s1",
                "body",
                1,
                "常见问题",
                "关于发票的说明请见其他页面，以及更多内容。",
            ),
            chunk(
                "s1",
                "title",
                1,
                "发票",
                "在订单页面下载，以及更多内容的说明。",
            ),
        ],
    );
    assert_eq!(search(&index, "发票")[0].chunk_id, "title-1");
}

#[test]
fn empty_or_punctuation_queries_return_nothing() {
    let index = index_with(&Lexicon::new(), vec![chunk("s1", "a", 1, "t", "退款")]);
    assert!(search(&index, "").is_empty());
    assert!(search(&index, "？！。 ,,").is_empty());
    // An absurd limit is clamped, not allocated.
    let huge = SearchQuery::new("退款", Filter::visitor("s1")).with_limit(usize::MAX);
    assert_eq!(index.search(&huge).unwrap().len(), 1);
    // Query syntax characters are plain text, never a parse error.
    assert!(!search(&index, "退款 AND (title:\"x").is_empty());
}

/// Prints indexing and query throughput; run with
/// `cargo test -p kefu-search --release --test it -- --ignored --nocapture index_build_rate`.
#[test]
#[ignore = "timing only; prints, never asserts wall-clock"]
fn index_build_rate() {
    let phrases = [
        "退款申请提交后三个工作日内原路退回。",
        "蚂蚁花呗支持分期付款和提前还款。",
        "Orders ship within two business days.",
        "上海交通大学的校友可以享受会员折扣。",
        "Refunds are processed after the item is received.",
        "发票可以在订单详情页面下载电子版。",
        "如果快递丢失，请联系人工客服处理。",
    ];
    let count = 20_000u32;
    let docs: Vec<kefu_search::ChunkDoc> = (0..count)
        .map(|i| {
            let text: String = (0..6)
                .map(|j| phrases[((i as usize) * 7 + j * 3) % phrases.len()])
                .collect();
            chunk(
                "s1",
                &format!("e{i}"),
                0,
                phrases[i as usize % phrases.len()],
                &text,
            )
        })
        .collect();
    let bytes: usize = docs.iter().map(|d| d.text.len() + d.title.len()).sum();
    let dir = tempfile::tempdir().unwrap();
    let index = ChunkIndex::open_or_create(dir.path().join("idx"), &Lexicon::new()).unwrap();
    let started = std::time::Instant::now();
    index.rebuild(docs).unwrap();
    let elapsed = started.elapsed();
    println!(
        "indexed {count} chunks ({:.1} MB) in {elapsed:?}: {:.0} chunks/s",
        bytes as f64 / 1e6,
        f64::from(count) / elapsed.as_secs_f64()
    );
    let started = std::time::Instant::now();
    let runs = 50u32;
    for _ in 0..runs {
        let hits = index
            .search(&SearchQuery::new("花呗怎么退款", Filter::visitor("s1")).with_limit(10))
            .unwrap();
        assert_eq!(hits.len(), 10);
    }
    println!(
        "query over {count} chunks: {:?}/query",
        started.elapsed() / runs
    );
}

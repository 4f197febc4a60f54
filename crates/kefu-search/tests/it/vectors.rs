//! Exact vector search: top-k equals a naive full sort, filters apply, models never mix,
//! persistence round-trips. Timing tests are `#[ignore]`d and only print.

use std::time::Instant;

use kefu_search::{ChunkMeta, Filter, SearchError, Status, VectorIndex, Visibility};

use crate::support::{Rng, meta};

const MODEL: &str = "test-model";

fn normalise(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

/// `count` entries with one chunk each; every third is internal, every fifth on site s2.
fn populated(count: u32, dims: usize, seed: u64) -> (VectorIndex, Vec<(ChunkMeta, Vec<f32>)>) {
    let mut rng = Rng::new(seed);
    let mut index = VectorIndex::new(MODEL, dims);
    let mut all = Vec::new();
    for i in 0..count {
        let site = if i % 5 == 0 { "s2" } else { "s1" };
        let mut m = meta(site, &format!("e{i}"), 0);
        if i % 3 == 0 {
            m.visibility = Visibility::Internal;
        }
        let v = rng.vector(dims);
        index
            .upsert_entry(MODEL, &m.entry_id.clone(), vec![(m.clone(), v.clone())])
            .unwrap();
        all.push((m, v));
    }
    (index, all)
}

fn naive_top_k(
    all: &[(ChunkMeta, Vec<f32>)],
    query: &[f32],
    filter: &Filter,
    k: usize,
) -> Vec<(String, f32)> {
    let q = normalise(query);
    let mut scored: Vec<(String, f32)> = all
        .iter()
        .filter(|(m, _)| filter.matches(m))
        .map(|(m, v)| {
            let v = normalise(v);
            (
                m.chunk_id.clone(),
                q.iter().zip(&v).map(|(a, b)| a * b).sum(),
            )
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(k);
    scored
}

#[test]
fn top_k_matches_naive_computation_with_filters() {
    let (index, all) = populated(2000, 48, 7);
    let mut rng = Rng::new(99);
    for filter in [
        Filter::visitor("s1"),
        Filter::agent("s1"),
        Filter::agent("s2"),
    ] {
        for _ in 0..5 {
            let query = rng.vector(48);
            let got = index.search(MODEL, &query, &filter, 10).unwrap();
            let want = naive_top_k(&all, &query, &filter, 10);
            assert_eq!(got.len(), want.len());
            for (g, (id, score)) in got.iter().zip(&want) {
                assert_eq!(&g.chunk_id, id);
                assert!((g.score - score).abs() < 1e-4, "{} vs {score}", g.score);
            }
            let allowed: Vec<&ChunkMeta> = all.iter().map(|(m, _)| m).collect();
            for hit in &got {
                let m = allowed.iter().find(|m| m.chunk_id == hit.chunk_id).unwrap();
                assert!(filter.matches(m));
            }
        }
    }
}

#[test]
fn k_larger_than_matches_returns_all_matches_sorted() {
    let (index, _) = populated(20, 8, 3);
    let hits = index
        .search(MODEL, &[1.0; 8], &Filter::visitor("s1"), 1000)
        .unwrap();
    // 20 entries: 4 on s2; of the 16 on s1, those with i % 3 == 0 are internal (i = 3,6,9,12,18).
    assert_eq!(hits.len(), 11);
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn upsert_replaces_an_entrys_vectors_and_remove_works() {
    let mut index = VectorIndex::new(MODEL, 3);
    let e1 = vec![
        (meta("s1", "e1", 1), vec![1.0, 0.0, 0.0]),
        (meta("s1", "e1", 2), vec![0.9, 0.1, 0.0]),
    ];
    index.upsert_entry(MODEL, "e1", e1).unwrap();
    index
        .upsert_entry(
            MODEL,
            "e2",
            vec![(meta("s1", "e2", 1), vec![0.0, 1.0, 0.0])],
        )
        .unwrap();
    index
        .upsert_entry(
            MODEL,
            "e1",
            vec![(meta("s1", "e1", 3), vec![0.0, 0.0, 1.0])],
        )
        .unwrap();
    assert_eq!(index.len(), 2);
    let hits = index
        .search(MODEL, &[1.0, 0.0, 0.0], &Filter::visitor("s1"), 5)
        .unwrap();
    let ids: Vec<&str> = hits.iter().map(|h| h.chunk_id.as_str()).collect();
    assert!(ids.contains(&"e1-3") && ids.contains(&"e2-1"), "{ids:?}");
    index.remove_entry("e2");
    assert_eq!(index.len(), 1);
    let hits = index
        .search(MODEL, &[0.0, 0.0, 1.0], &Filter::visitor("s1"), 5)
        .unwrap();
    assert_eq!(hits[0].chunk_id, "e1-3");
    assert!((hits[0].score - 1.0).abs() < 1e-6);
}

#[test]
fn bad_vectors_are_rejected_without_changing_the_entry() {
    let mut index = VectorIndex::new(MODEL, 3);
    index
        .upsert_entry(
            MODEL,
            "e1",
            vec![(meta("s1", "e1", 1), vec![1.0, 0.0, 0.0])],
        )
        .unwrap();
    let wrong_len = index.upsert_entry(MODEL, "e1", vec![(meta("s1", "e1", 2), vec![1.0])]);
    assert!(matches!(
        wrong_len,
        Err(SearchError::Dimensions {
            expected: 3,
            got: 1
        })
    ));
    let zero = index.upsert_entry(MODEL, "e1", vec![(meta("s1", "e1", 2), vec![0.0; 3])]);
    assert!(matches!(zero, Err(SearchError::BadVector { .. })));
    assert_eq!(index.len(), 1);
    assert_eq!(
        index.iter().next().map(|(m, _)| m.chunk_id.as_str()),
        Some("e1-1")
    );
}

#[test]
fn models_are_never_mixed() {
    let mut old = VectorIndex::new("model-a", 3);
    old.upsert_entry(
        "model-a",
        "e1",
        vec![(meta("s1", "e1", 1), vec![1.0, 0.0, 0.0])],
    )
    .unwrap();
    let insert_other = old.upsert_entry(
        "model-b",
        "e2",
        vec![(meta("s1", "e2", 1), vec![1.0, 0.0, 0.0])],
    );
    assert!(matches!(
        insert_other,
        Err(SearchError::ModelMismatch { .. })
    ));
    let query_other = old.search("model-b", &[1.0, 0.0, 0.0], &Filter::visitor("s1"), 5);
    assert!(matches!(
        query_other,
        Err(SearchError::ModelMismatch { .. })
    ));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(VectorIndex::file_name_for("model-a"));
    old.save(&path).unwrap();
    let reload_as_b = VectorIndex::load(&path, "model-b");
    assert!(matches!(
        reload_as_b,
        Err(SearchError::ModelMismatch { .. })
    ));
}

#[test]
fn save_and_load_round_trip() {
    let (index, _) = populated(300, 16, 11);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.bin");
    index.save(&path).unwrap();
    let loaded = VectorIndex::load(&path, MODEL).unwrap();
    assert_eq!(loaded.len(), 300);
    assert_eq!(loaded.dimensions(), 16);
    let query = Rng::new(5).vector(16);
    let filter = Filter::agent("s1");
    assert_eq!(
        index.search(MODEL, &query, &filter, 10).unwrap(),
        loaded.search(MODEL, &query, &filter, 10).unwrap()
    );
    // Loaded indexes keep supporting entry replacement.
    let mut loaded = loaded;
    loaded.remove_entry("e1");
    assert_eq!(loaded.len(), 299);
}

#[test]
fn truncated_or_foreign_files_are_reported_as_corrupt() {
    let (index, _) = populated(10, 4, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.bin");
    index.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    assert!(matches!(
        VectorIndex::load(&path, MODEL),
        Err(SearchError::CorruptVectorFile { .. })
    ));
    std::fs::write(&path, b"hello world, not vectors").unwrap();
    assert!(matches!(
        VectorIndex::load(&path, MODEL),
        Err(SearchError::CorruptVectorFile { .. })
    ));
}

/// Prints scan time at realistic sizes; run with
/// `cargo test -p kefu-search --release --test it -- --ignored --nocapture vector_search_timing`.
#[test]
#[ignore = "timing only; prints, never asserts wall-clock"]
fn vector_search_timing() {
    for count in [100_000u32, 300_000] {
        let dims = 384;
        let mut rng = Rng::new(42);
        let mut index = VectorIndex::new(MODEL, dims);
        let started = Instant::now();
        for i in 0..count {
            let mut m = meta(if i % 2 == 0 { "s1" } else { "s2" }, &format!("e{i}"), 0);
            m.status = Status::Published;
            index
                .upsert_entry(MODEL, &m.entry_id.clone(), vec![(m, rng.vector(dims))])
                .unwrap();
        }
        let load = started.elapsed();
        let query = rng.vector(dims);
        let runs = 10;
        let started = Instant::now();
        for _ in 0..runs {
            let hits = index
                .search(MODEL, &query, &Filter::agent("s1"), 10)
                .unwrap();
            assert_eq!(hits.len(), 10);
        }
        let per_query = started.elapsed() / runs;
        println!(
            "{count} x {dims}: insert {load:?}, search top-10 (half filtered) {per_query:?}/query"
        );
    }
}

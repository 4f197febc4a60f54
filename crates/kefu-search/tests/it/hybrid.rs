//! Hybrid retrieval end to end: text hits and vector hits of the same chunks fuse by rank, and
//! text-only search (no embedder) still works through the same path.

use kefu_search::{ChunkIndex, Filter, FusionWeights, Lexicon, SearchQuery, VectorIndex, fuse};

use crate::support::{chunk, meta};

#[test]
fn text_and_vector_results_fuse_with_both_components() {
    let index = ChunkIndex::in_ram(&Lexicon::new()).unwrap();
    index
        .rebuild(vec![
            chunk("s1", "refund", 1, "退款", "退款三天到账。"),
            chunk("s1", "invoice", 1, "发票", "发票在订单页下载。"),
        ])
        .unwrap();
    let mut vectors = VectorIndex::new("m", 2);
    vectors
        .upsert_entry(
            "m",
            "refund",
            vec![(meta("s1", "refund", 1), vec![1.0, 0.0])],
        )
        .unwrap();
    vectors
        .upsert_entry(
            "m",
            "invoice",
            vec![(meta("s1", "invoice", 1), vec![0.0, 1.0])],
        )
        .unwrap();

    let filter = Filter::visitor("s1");
    let text = index
        .search(&SearchQuery::new("退款", filter.clone()))
        .unwrap();
    // A paraphrase the keywords miss but the (fake) embedding places near "invoice".
    let near = vectors.search("m", &[0.1, 0.9], &filter, 5).unwrap();
    let fused = fuse(&text, &near, &FusionWeights::default(), 5);

    assert_eq!(fused.len(), 2);
    // refund: text rank 1 + vector rank 2; invoice: vector rank 1 only.
    assert_eq!(fused[0].chunk_id, "refund-1");
    assert_eq!(fused[0].text_rank, Some(1));
    assert_eq!(fused[0].vector_rank, Some(2));
    assert_eq!(fused[0].matched_terms, ["退款"]);
    assert_eq!(fused[1].chunk_id, "invoice-1");
    assert_eq!(fused[1].text_rank, None);

    let text_only = fuse(&text, &[], &FusionWeights::default(), 5);
    assert_eq!(text_only.len(), 1);
    assert_eq!(text_only[0].chunk_id, "refund-1");
}

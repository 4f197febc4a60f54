//! The in-process embedder on the real all-MiniLM-L6-v2 weights: vectors have the model's
//! dimension and unit length, a paraphrase lies closer than an unrelated sentence, batching and
//! padding do not change a text's vector, over-long texts are truncated, and the async trait
//! path runs on the blocking pool.
//!
//! The model folder comes from `KEFU_TEST_MINILM`, else the cache `bench/fetch_models.sh` fills
//! (`${KEFU_MODEL_CACHE:-$HOME/.cache/kefu/models}/all-MiniLM-L6-v2`). Without it the tests are
//! skipped with a message, except under CI (`CI=true`), where a missing model is a failure: CI
//! fetches it first, and a silently skipped test would hide a broken embedder.

use std::path::PathBuf;
use std::sync::OnceLock;

use kefu_search::{Embedder, LocalEmbedder, LocalEmbedderConfig};

fn model_folder() -> Option<PathBuf> {
    let folder = match std::env::var_os("KEFU_TEST_MINILM") {
        Some(path) => PathBuf::from(path),
        None => {
            let cache = std::env::var_os("KEFU_MODEL_CACHE").map_or_else(
                || {
                    let home = std::env::var_os("HOME").unwrap_or_default();
                    PathBuf::from(home).join(".cache/kefu/models")
                },
                PathBuf::from,
            );
            cache.join("all-MiniLM-L6-v2")
        }
    };
    if folder.join("model.safetensors").exists() {
        return Some(folder);
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must test the local embedder, but there is no model in {} (run bench/fetch_models.sh)",
        folder.display()
    );
    eprintln!(
        "skipping: no model in {} (run bench/fetch_models.sh)",
        folder.display()
    );
    None
}

/// Loaded once for all tests of this module: loading reads 90 MB of weights.
fn embedder() -> Option<&'static LocalEmbedder> {
    static EMBEDDER: OnceLock<Option<LocalEmbedder>> = OnceLock::new();
    EMBEDDER
        .get_or_init(|| model_folder().map(|f| LocalEmbedder::from_folder(f).unwrap()))
        .as_ref()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| (*t).to_owned()).collect()
}

#[test]
fn vectors_have_the_model_dimension_and_unit_length() {
    let Some(e) = embedder() else { return };
    assert_eq!(e.model(), "all-MiniLM-L6-v2");
    assert_eq!(e.dimensions(), 384);
    // The sentence-transformers config says 256, not the 128 of tokenizer.json.
    assert_eq!(e.max_length(), 256);
    let vectors = e
        .embed_blocking(&strings(&["Where is my new card?", "", "我的卡丢了"]))
        .unwrap();
    assert_eq!(vectors.len(), 3);
    for v in &vectors {
        assert_eq!(v.len(), 384);
        let norm = dot(v, v).sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        assert!(v.iter().all(|x| x.is_finite()));
    }
    assert!(e.embed_blocking(&[]).unwrap().is_empty());
}

#[test]
fn a_paraphrase_is_closer_than_an_unrelated_sentence() {
    let Some(e) = embedder() else { return };
    let v = e
        .embed_blocking(&strings(&[
            "How do I reset my PIN?",
            "I forgot my PIN code and need to change it",
            "The weather is lovely at the seaside today",
            "My card still has not arrived",
            "When will the card I ordered be delivered?",
        ]))
        .unwrap();
    let pin = dot(&v[0], &v[1]);
    let unrelated = dot(&v[0], &v[2]);
    assert!(
        pin > unrelated + 0.3,
        "paraphrase {pin}, unrelated {unrelated}"
    );
    // Each question's nearest neighbour among the others is its paraphrase.
    assert!(dot(&v[3], &v[4]) > dot(&v[3], &v[0]));
    assert!(dot(&v[3], &v[4]) > dot(&v[3], &v[2]));
}

#[test]
fn batching_and_padding_do_not_change_a_vector() {
    let Some(e) = embedder() else { return };
    let texts = strings(&[
        "top up failed",
        "I was charged twice for the same purchase at a shop yesterday, can you refund one?",
        "pin",
        "Why is my transfer still pending after three days?",
    ]);
    let together = e.embed_blocking(&texts).unwrap();
    // A batch size of 3 splits the texts over two batches of different widths.
    let small_batches = LocalEmbedder::load(
        LocalEmbedderConfig::new(model_folder().unwrap())
            .with_batch_size(3)
            .with_name("minilm"),
    )
    .unwrap();
    assert_eq!(small_batches.model(), "minilm");
    let split = small_batches.embed_blocking(&texts).unwrap();
    for (i, text) in texts.iter().enumerate() {
        let alone = e.embed_blocking(std::slice::from_ref(text)).unwrap();
        for other in [&together[i], &split[i]] {
            let diff = alone[0]
                .iter()
                .zip(other)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0_f32, f32::max);
            assert!(diff < 1e-4, "text {i} differs by {diff} when batched");
        }
    }
}

#[test]
fn long_texts_are_truncated_not_rejected() {
    let Some(e) = embedder() else { return };
    let long = "my card payment was declined at the shop ".repeat(200);
    let head = "my card payment was declined at the shop ".repeat(30);
    let v = e.embed_blocking(&[long, head]).unwrap();
    assert_eq!(v[0].len(), 384);
    // Both are truncated to the same 256 tokens' worth of the same repeated sentence.
    assert!(dot(&v[0], &v[1]) > 0.95, "{}", dot(&v[0], &v[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_trait_gives_the_same_vectors() {
    let Some(e) = embedder() else { return };
    let texts = strings(&["Can I change my PIN at an ATM?", "exchange rate for euros"]);
    let shared: std::sync::Arc<dyn Embedder> = std::sync::Arc::new(e.clone());
    let via_trait = shared.embed(&texts).await.unwrap();
    let direct = e.embed_blocking(&texts).unwrap();
    assert_eq!(via_trait, direct);
}

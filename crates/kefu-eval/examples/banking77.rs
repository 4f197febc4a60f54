//! Full BANKING77 evaluation of the offline FAQ matcher, reproducibly.
//!
//! ```text
//! cargo run --release -p kefu-eval --example banking77 -- /work/shared/eval/banking77 \
//!     [--search] [--set '{"c":2.0}'] [--cv-only] [--folds 5] [--html report.html] [--json report.json]
//!     [--embeddings MODEL_DIR [--embeddings-cache FILE] [--grid '{"dense":[1.0,2.0]}']]
//! ```
//!
//! `--set` overrides default config fields (to cross-validate a variant); `--cv-only` stops
//! after step 2, leaving test.csv unevaluated, which is how variants are compared.
//!
//! 1. `--search`: greedy coordinate search of the matcher settings by k-fold cross-validation on
//!    train.csv only (this is how `MatcherConfig::default()` was chosen); without it the
//!    defaults are used.
//! 2. Cross-validation of the chosen settings on train: fits the confidence scale and chooses the
//!    answer threshold (most automation with at most 5% wrong answers).
//! 3. Trains on all of train.csv (timed) and reports test.csv once with that threshold.
//! 4. `--embeddings MODEL_DIR` (a sentence-transformers folder, see `bench/fetch_models.sh`):
//!    embeds train.csv with the local model, cross-validates the hybrid fusion weights on train
//!    (same folds), and reports the hybrid on test.csv beside the offline figures.
//!    `--embeddings-cache FILE` keeps train.csv's vectors between runs and `--grid` overrides
//!    fields of the fusion grid (both for model development).
//!
//! Data: Casanueva et al. 2020, "Efficient Intent Detection with Dual Sentence Encoders",
//! arXiv:2003.04807, CC BY 4.0.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use kefu_eval::harness::EvalOptions;
use kefu_eval::report::ChosenThreshold;
use kefu_eval::{
    CvOptions, EvalReport, HybridAnswerer, HybridCvResult, HybridGrid, HybridMatcher,
    MatcherAnswerer, SearchAxis, coordinate_search, cross_validate, cross_validate_hybrid,
    embed_all, evaluate, load_banking77,
};
use kefu_kb::{FaqExample, FaqMatcher, MatcherConfig};
use kefu_search::{Embedder, LocalEmbedder};

struct Args {
    dir: PathBuf,
    search: bool,
    cv_only: bool,
    set: Option<String>,
    folds: usize,
    html: Option<PathBuf>,
    json: Option<PathBuf>,
    embeddings: Option<PathBuf>,
    embeddings_cache: Option<PathBuf>,
    grid: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        dir: PathBuf::new(),
        search: false,
        cv_only: false,
        set: None,
        folds: 5,
        html: None,
        json: None,
        embeddings: None,
        embeddings_cache: None,
        grid: None,
    };
    let mut it = std::env::args().skip(1);
    let mut dir = None;
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--search" => args.search = true,
            "--cv-only" => args.cv_only = true,
            "--set" => args.set = Some(it.next().ok_or("--set needs a JSON object")?),
            "--folds" => {
                args.folds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--folds needs N")?;
            }
            "--html" => args.html = Some(it.next().ok_or("--html needs a path")?.into()),
            "--json" => args.json = Some(it.next().ok_or("--json needs a path")?.into()),
            "--embeddings" => {
                args.embeddings = Some(it.next().ok_or("--embeddings needs a folder")?.into());
            }
            "--grid" => args.grid = Some(it.next().ok_or("--grid needs a JSON object")?),
            "--embeddings-cache" => {
                args.embeddings_cache =
                    Some(it.next().ok_or("--embeddings-cache needs a path")?.into());
            }
            _ if !arg.starts_with("--") && dir.is_none() => dir = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument `{arg}`")),
        }
    }
    args.dir = dir.ok_or("usage: banking77 <dir> [--search] [--folds N] [--html P] [--json P]")?;
    Ok(args)
}

/// The axes searched; the order matters for a greedy search, strongest levers first.
fn axes() -> Vec<SearchAxis> {
    vec![
        SearchAxis::new("softmax_weight", &[0.0, 0.15, 0.25, 0.4]),
        SearchAxis::new("c", &[0.5, 1.0, 2.0, 4.0]),
        SearchAxis::new("neighbour_weight", &[0.0, 0.5, 1.0, 1.5]),
        SearchAxis::new("vote_k+vote_weight", &[(0, 0.0), (10, 0.5), (5, 0.5)]),
        SearchAxis::new("softmax_l2", &[3e-7, 1e-6, 3e-6]),
        SearchAxis::new("word_ngram_max", &[1, 2, 3]),
        SearchAxis::new(
            "char_ngram_min+char_ngram_max",
            &[[2, 5], [1, 5], [2, 6], [3, 5], [2, 4]],
        ),
        SearchAxis::new("char_weight", &[0.7, 1.0, 1.4]),
        SearchAxis::new("stem", &[true, false]),
        SearchAxis::new("skip_bigrams", &[false, true]),
        SearchAxis::new("char_across_words", &[false, true]),
        SearchAxis::new("min_df", &[1, 2]),
        SearchAxis::new("spell_correct", &[false, true]),
    ]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let data = load_banking77(&args.dir)?;
    println!(
        "BANKING77 (Casanueva et al. 2020, arXiv:2003.04807, CC BY 4.0): {} phrasings, {} test \
         questions",
        data.knowledge.len(),
        data.suite.len()
    );
    let options = CvOptions {
        folds: args.folds,
        ..CvOptions::default()
    };

    let mut config = MatcherConfig::default();
    if let Some(set) = &args.set {
        // Start from the defaults with some fields overridden (for trying variants by CV).
        config = patched(&config, set)?;
    }
    if args.search {
        println!(
            "\nCoordinate search, {}-fold CV on train (hit@1, MRR@10):",
            args.folds
        );
        let (best, trials) =
            coordinate_search(&data.knowledge, &config, &axes(), &options, 3, &|t| {
                println!("  {:<44} {:.4}  {:.4}", t.change, t.hit_at_1, t.mrr_at_10);
            })?;
        println!(
            "  {} trials; best: {}",
            trials.len(),
            serde_json::to_string(&best)?
        );
        config = best;
    }

    let start = Instant::now();
    let cv = cross_validate(&data.knowledge, &config, &options, &|done, total| {
        eprint!("\rcross-validation fold {done}/{total}");
    })?;
    eprintln!();
    let folds = &cv.fold_hit_at_1;
    let mean = folds.iter().sum::<f64>() / folds.len() as f64;
    let sd = (folds.iter().map(|h| (h - mean).powi(2)).sum::<f64>() / folds.len() as f64).sqrt();
    let cvm = &cv.evaluation.metrics;
    let threshold = cv.chosen.as_ref().map_or(0.0, |p| p.threshold);
    println!(
        "\n{}-fold CV on train ({:.1}s): hit@1 {:.4} (folds {mean:.4} ± {sd:.4}), hit@5 {:.4}, \
         MRR@10 {:.4}; confidence scale {:.2} (log loss {:.3}); threshold {threshold:.2}: \
         automation {:.1}%, wrong answers {:.1}%",
        args.folds,
        start.elapsed().as_secs_f64(),
        cvm.hit_at_1,
        cvm.hit_at_5,
        cvm.mrr_at_10,
        cv.config.confidence_scale,
        cv.log_loss,
        cvm.automation_rate * 100.0,
        cvm.wrong_answer_rate * 100.0,
    );
    println!("config: {}", serde_json::to_string(&cv.config)?);
    println!("mean fold training time {:.2}s", cv.mean_train_seconds);
    let hybrid = match &args.embeddings {
        Some(folder) => Some(hybrid_cv(
            &args,
            folder,
            &data.knowledge,
            &cv.config,
            &options,
        )?),
        None => None,
    };
    if args.cv_only {
        // Model development: everything above used train only; leave test.csv unread.
        return Ok(());
    }

    let start = Instant::now();
    let matcher = Arc::new(FaqMatcher::train(&data.knowledge, &cv.config)?);
    let train_seconds = start.elapsed().as_secs_f64();
    let answerer = MatcherAnswerer::new(matcher.clone(), threshold);
    let eval = evaluate(
        &answerer,
        &data.suite,
        &EvalOptions::default(),
        &|done, total| {
            if done % 500 == 0 || done == total {
                eprint!("\rtest {done}/{total}");
            }
        },
    );
    eprintln!();

    let mut report = EvalReport::new(
        "Kefu offline FAQ matcher on BANKING77",
        kefu_eval::Answerer::describe(&answerer),
        format!("{} (test.csv; knowledge = train.csv)", args.dir.display()),
        &eval,
    )
    .with_fact(
        "Training time (all of train.csv)",
        format!("{train_seconds:.2} s"),
    )
    .with_fact("Vocabulary", matcher.vocabulary_len().to_string())
    .with_fact(
        format!("CV hit@1 / hit@5 / MRR@10 ({}-fold, train)", args.folds),
        format!(
            "{:.4} / {:.4} / {:.4}",
            cvm.hit_at_1, cvm.hit_at_5, cvm.mrr_at_10
        ),
    )
    .with_fact("CV hit@1 per fold", format!("{mean:.4} ± {sd:.4}"))
    .with_fact(
        "CV automation / wrong answers at threshold",
        format!(
            "{:.1}% / {:.1}%",
            cvm.automation_rate * 100.0,
            cvm.wrong_answer_rate * 100.0
        ),
    )
    .with_fact("Config", serde_json::to_string(&cv.config)?)
    .with_fact(
        "Data",
        "BANKING77, Casanueva et al. 2020, arXiv:2003.04807, CC BY 4.0 (PolyAI)",
    );
    report.threshold = Some(threshold);
    report.chosen_threshold = Some(ChosenThreshold {
        threshold,
        max_wrong_rate: options.max_wrong_rate,
        basis: format!("{}-fold cross-validation on train", args.folds),
    });
    println!("\n{}", report.render_text());
    if let Some(path) = &args.html {
        std::fs::write(path, report.render_html())?;
        println!("HTML report: {}", path.display());
    }
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json()?)?;
        println!("JSON report: {}", path.display());
    }
    if let Some(h) = hybrid {
        hybrid_test(&args, h, &data, &cv.config)?;
    }
    Ok(())
}

/// What step 4 carries from cross-validation to the test run.
struct HybridSetup {
    embedder: Arc<LocalEmbedder>,
    vectors: Vec<Vec<f32>>,
    cv: HybridCvResult,
    texts_per_second: f64,
}

/// Embeds train.csv (or reads the cache) and cross-validates the fusion weights on it.
fn hybrid_cv(
    args: &Args,
    folder: &std::path::Path,
    knowledge: &[FaqExample],
    config: &MatcherConfig,
    options: &CvOptions,
) -> Result<HybridSetup, Box<dyn std::error::Error>> {
    let embedder = Arc::new(LocalEmbedder::from_folder(folder)?);
    let texts: Vec<String> = knowledge.iter().map(|e| e.text.clone()).collect();
    let cached = args
        .embeddings_cache
        .as_deref()
        .and_then(|p| read_cache(p, texts.len(), embedder.dimensions()));
    let (vectors, texts_per_second) = match cached {
        Some(v) => (v, f64::NAN),
        None => {
            let start = Instant::now();
            let v = embed_all(embedder.as_ref(), &texts, 256, &|done, total| {
                eprint!("\rembedding train {done}/{total}");
            })?;
            eprintln!();
            let rate = texts.len() as f64 / start.elapsed().as_secs_f64();
            if let Some(path) = &args.embeddings_cache {
                write_cache(path, &v)?;
            }
            (v, rate)
        }
    };
    println!(
        "\nembedded {} phrasings with {} ({} dims): {texts_per_second:.0} texts/s",
        vectors.len(),
        embedder.model(),
        embedder.dimensions()
    );
    let grid: HybridGrid = match &args.grid {
        Some(patch) => patched(&HybridGrid::default(), patch)?,
        None => HybridGrid::default(),
    };
    let start = Instant::now();
    let cv = cross_validate_hybrid(
        knowledge,
        &vectors,
        config,
        &grid,
        options,
        &|done, total| eprint!("\rhybrid cross-validation fold {done}/{total}"),
    )?;
    eprintln!();
    let mut trials = cv.trials.clone();
    trials.sort_by(|a, b| b.hit_at_1.total_cmp(&a.hit_at_1));
    for t in trials.iter().take(8) {
        println!(
            "  dense {:.1} nearest {:.1} vote {:.1} k {:>2}: hit@1 {:.4} MRR@10 {:.4}",
            t.weights.dense,
            t.weights.nearest,
            t.weights.vote,
            t.weights.vote_k,
            t.hit_at_1,
            t.mrr_at_10
        );
    }
    let m = &cv.evaluation.metrics;
    println!(
        "hybrid {}-fold CV on train ({:.1}s): hit@1 {:.4}, hit@5 {:.4}, MRR@10 {:.4} \
         (matcher alone {:.4}, with the embedding block {:.4}, embedding 1-NN alone {:.4}); \
         weights {}; confidence scale \
         {:.2}; threshold {:.2}: automation {:.1}%, wrong answers {:.1}%",
        options.folds,
        start.elapsed().as_secs_f64(),
        m.hit_at_1,
        m.hit_at_5,
        m.mrr_at_10,
        cv.matcher_only.hit_at_1,
        cv.dense_matcher_only.hit_at_1,
        cv.nearest_only.hit_at_1,
        serde_json::to_string(&cv.weights)?,
        cv.confidence_scale,
        cv.chosen.as_ref().map_or(0.0, |p| p.threshold),
        m.automation_rate * 100.0,
        m.wrong_answer_rate * 100.0,
    );
    Ok(HybridSetup {
        embedder,
        vectors,
        cv,
        texts_per_second,
    })
}

/// Step 4 on test.csv: the hybrid with the cross-validated weights, questions embedded one
/// at a time as a server would.
fn hybrid_test(
    args: &Args,
    setup: HybridSetup,
    data: &kefu_eval::Banking77,
    config: &MatcherConfig,
) -> Result<(), Box<dyn std::error::Error>> {
    let threshold = setup.cv.chosen.as_ref().map_or(0.0, |p| p.threshold);
    let start = Instant::now();
    let hybrid = HybridMatcher::train(
        &data.knowledge,
        &setup.vectors,
        config,
        setup.cv.weights,
        setup.cv.confidence_scale,
    )?;
    let train_seconds = start.elapsed().as_secs_f64();
    let answerer = HybridAnswerer::new(hybrid, setup.embedder.clone(), threshold);
    let eval = evaluate(
        &answerer,
        &data.suite,
        &EvalOptions::default(),
        &|done, total| {
            if done % 500 == 0 || done == total {
                eprint!("\rhybrid test {done}/{total}");
            }
        },
    );
    eprintln!();
    let cvm = &setup.cv.evaluation.metrics;
    let mut report = EvalReport::new(
        "Kefu hybrid (FAQ matcher + local embeddings) on BANKING77",
        kefu_eval::Answerer::describe(&answerer),
        format!("{} (test.csv; knowledge = train.csv)", args.dir.display()),
        &eval,
    )
    .with_fact(
        "Training time (all of train.csv, embeddings given)",
        format!("{train_seconds:.2} s"),
    )
    .with_fact(
        "Embedding throughput (train.csv, batches of 32)",
        format!("{:.0} texts/s", setup.texts_per_second),
    )
    .with_fact(
        format!(
            "Hybrid CV hit@1 / hit@5 / MRR@10 ({}-fold, train)",
            args.folds
        ),
        format!(
            "{:.4} / {:.4} / {:.4}",
            cvm.hit_at_1, cvm.hit_at_5, cvm.mrr_at_10
        ),
    )
    .with_fact(
        "Fusion weights (CV)",
        serde_json::to_string(&setup.cv.weights)?,
    )
    .with_fact(
        "Embedding failures",
        answerer.embedding_failures().to_string(),
    );
    report.threshold = Some(threshold);
    println!("\n{}", report.render_text());
    if let Some(path) = &args.json {
        let path = path.with_extension("hybrid.json");
        std::fs::write(&path, report.to_json()?)?;
        println!("JSON report: {}", path.display());
    }
    Ok(())
}

/// `base` with the fields of the JSON object `patch` replaced.
fn patched<T: serde::Serialize + serde::de::DeserializeOwned>(
    base: &T,
    patch: &str,
) -> Result<T, Box<dyn std::error::Error>> {
    let mut json = serde_json::to_value(base)?;
    let patch: serde_json::Value = serde_json::from_str(patch)?;
    if let (Some(base), Some(patch)) = (json.as_object_mut(), patch.as_object()) {
        for (k, v) in patch {
            base.insert(k.clone(), v.clone());
        }
    }
    Ok(serde_json::from_value(json)?)
}

/// Reads vectors cached by [`write_cache`], if the file holds `count` vectors of `dims`.
fn read_cache(path: &std::path::Path, count: usize, dims: usize) -> Option<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() != count * dims * 4 {
        return None;
    }
    let floats: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Some(floats.chunks_exact(dims).map(<[f32]>::to_vec).collect())
}

/// Writes vectors as little-endian f32s, one after another.
fn write_cache(path: &std::path::Path, vectors: &[Vec<f32>]) -> std::io::Result<()> {
    let bytes: Vec<u8> = vectors
        .iter()
        .flatten()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    std::fs::write(path, bytes)
}

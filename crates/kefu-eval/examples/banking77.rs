//! Full BANKING77 evaluation of the offline FAQ matcher, reproducibly.
//!
//! ```text
//! cargo run --release -p kefu-eval --example banking77 -- /work/shared/eval/banking77 \
//!     [--search] [--set '{"c":2.0}'] [--cv-only] [--folds 5] [--html report.html] [--json report.json]
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
//!
//! Data: Casanueva et al. 2020, "Efficient Intent Detection with Dual Sentence Encoders",
//! arXiv:2003.04807, CC BY 4.0.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use kefu_eval::harness::EvalOptions;
use kefu_eval::report::ChosenThreshold;
use kefu_eval::{
    CvOptions, EvalReport, MatcherAnswerer, SearchAxis, coordinate_search, cross_validate,
    evaluate, load_banking77,
};
use kefu_kb::{FaqMatcher, MatcherConfig};

struct Args {
    dir: PathBuf,
    search: bool,
    cv_only: bool,
    set: Option<String>,
    folds: usize,
    html: Option<PathBuf>,
    json: Option<PathBuf>,
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
        let mut json = serde_json::to_value(&config)?;
        let patch: serde_json::Value = serde_json::from_str(set)?;
        if let (Some(base), Some(patch)) = (json.as_object_mut(), patch.as_object()) {
            for (k, v) in patch {
                base.insert(k.clone(), v.clone());
            }
        }
        config = serde_json::from_value(json)?;
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
    Ok(())
}

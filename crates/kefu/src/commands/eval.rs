//! `kefu eval SUITE`: answer quality as numbers. Runs a question set through the offline
//! answerer (the FAQ matcher with a confidence threshold) and prints hit@1/hit@5/MRR@10,
//! accuracy, automation, wrong-answer and hand-off figures, latency and the threshold sweep;
//! optionally writes JSON and HTML reports. The threshold, unless given, is chosen by
//! cross-validation on the knowledge itself (never on the suite), as the most automation whose
//! wrong-answer rate stays within `--max-wrong-rate`.
//!
//! SUITE is either a suite file (JSONL or CSV, see kefu-eval's `suite` module) used with
//! `--knowledge`, or a BANKING77 folder (train.csv becomes the knowledge, test.csv the suite).
//!
//! With `--embeddings MODEL_DIR` (a local sentence-transformers folder, e.g. the one
//! `bench/fetch_models.sh` prints) or `--embeddings-url URL` (an OpenAI-compatible embeddings
//! endpoint), a second, hybrid run follows: the matcher's scores fused with embedding kNN over
//! the phrasings, its fusion weights, confidence scale and threshold chosen by the same
//! cross-validation on the knowledge, and its figures printed beside the offline ones.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kefu_eval::harness::EvalOptions;
use kefu_eval::report::ChosenThreshold;
use kefu_eval::{
    CvOptions, EmbedError, Embedder, EvalReport, HybridAnswerer, HybridGrid, HybridMatcher,
    LocalEmbedder, MatcherAnswerer, OpenAiEmbedder, OpenAiEmbedderConfig, TextEmbedder,
    cross_validate, cross_validate_hybrid, embed_all, evaluate,
};
use kefu_kb::{FaqExample, FaqMatcher, MatcherConfig};

#[derive(clap::Args)]
pub struct Args {
    /// A suite file (.jsonl or .csv) or a BANKING77 folder (train.csv + test.csv).
    suite: PathBuf,
    /// FAQ knowledge when SUITE is a file: CSV with `entry_id,text` (or `text,category`)
    /// columns, or JSONL with `entry_id` and `text`.
    #[arg(long)]
    knowledge: Option<PathBuf>,
    /// Answer when the top confidence is at least this; default: chosen by cross-validation.
    #[arg(long)]
    threshold: Option<f32>,
    /// The wrong-answer rate the chosen threshold must stay within.
    #[arg(long, default_value_t = 0.05)]
    max_wrong_rate: f64,
    /// Cross-validation folds for choosing the threshold.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the report as a self-contained HTML page here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Print the threshold sweep: automation against wrong answers for each confidence bar
    /// (always included in the JSON and HTML reports).
    #[arg(long)]
    sweep: bool,
    /// Exit with an error when hit@1 falls below this (a CI gate).
    #[arg(long)]
    min_hit_at_1: Option<f64>,
    /// Also evaluate the hybrid answerer with this local sentence-embedding model folder
    /// (model.safetensors, tokenizer.json, config.json; see bench/fetch_models.sh).
    #[arg(long, value_name = "MODEL_DIR", conflicts_with = "embeddings_url")]
    embeddings: Option<PathBuf>,
    /// Also evaluate the hybrid answerer with an OpenAI-compatible embeddings endpoint
    /// (server root or `/v1` base); needs --embeddings-model and --embeddings-dimensions. The
    /// key, if any, comes from KEFU_EMBEDDINGS_API_KEY.
    #[arg(long, value_name = "URL", requires_all = ["embeddings_model", "embeddings_dimensions"])]
    embeddings_url: Option<String>,
    /// Model name sent to --embeddings-url.
    #[arg(long)]
    embeddings_model: Option<String>,
    /// Vector length of --embeddings-model.
    #[arg(long)]
    embeddings_dimensions: Option<usize>,
    /// Exit with an error when the hybrid's hit@1 falls below this.
    #[arg(long)]
    min_hybrid_hit_at_1: Option<f64>,
}

fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (knowledge, suite, label) = if args.suite.is_dir() {
        let data = kefu_eval::load_banking77(&args.suite)
            .with_context(|| format!("loading BANKING77 from {}", args.suite.display()))?;
        let label = format!("{} (test.csv; knowledge = train.csv)", args.suite.display());
        (data.knowledge, data.suite, label)
    } else {
        let Some(knowledge_path) = &args.knowledge else {
            bail!("a suite file needs --knowledge FILE (the FAQ phrasings to answer from)");
        };
        let knowledge = load_knowledge(knowledge_path)?;
        let suite = kefu_eval::load_suite(&args.suite)?;
        (knowledge, suite, args.suite.display().to_string())
    };
    if knowledge.is_empty() || suite.is_empty() {
        bail!(
            "nothing to evaluate: {} phrasings, {} questions",
            knowledge.len(),
            suite.len()
        );
    }
    let entries = knowledge
        .iter()
        .map(|k| &k.entry_id)
        .collect::<std::collections::HashSet<_>>();
    println!(
        "{} phrasings of {} entries; {} questions",
        knowledge.len(),
        entries.len(),
        suite.len()
    );

    // Cross-validation on the knowledge: calibrates confidence and picks the threshold.
    let options = CvOptions {
        folds: args.folds,
        max_wrong_rate: args.max_wrong_rate,
        ..CvOptions::default()
    };
    let progress = bar(args.folds as u64, "cross-validation");
    let cv = cross_validate(
        &knowledge,
        &MatcherConfig::default(),
        &options,
        &|done, _| progress.set_position(done as u64),
    )?;
    progress.finish_and_clear();
    let chosen = cv.chosen.as_ref().map(|p| p.threshold);
    let threshold = args.threshold.or(chosen).unwrap_or(1.0);

    let embedder = open_embedder(&args)?;

    let started = Instant::now();
    let matcher = Arc::new(FaqMatcher::train(&knowledge, &cv.config)?);
    let train_seconds = started.elapsed().as_secs_f64();
    let answerer = MatcherAnswerer::new(matcher, threshold);
    let progress = bar(suite.len() as u64, "questions");
    let evaluation = evaluate(&answerer, &suite, &EvalOptions::default(), &|done, _| {
        progress.set_position(done as u64)
    });
    progress.finish_and_clear();

    let cvm = &cv.evaluation.metrics;
    let mut report = EvalReport::new(
        "Kefu offline answerer",
        kefu_eval::Answerer::describe(&answerer),
        label.clone(),
        &evaluation,
    )
    .with_fact("Training time", format!("{train_seconds:.2} s"))
    .with_fact(
        format!(
            "CV on knowledge ({} folds): hit@1 / automation / wrong",
            args.folds
        ),
        format!(
            "{:.4} / {:.1}% / {:.1}%",
            cvm.hit_at_1,
            cvm.automation_rate * 100.0,
            cvm.wrong_answer_rate * 100.0
        ),
    );
    report.threshold = Some(threshold);
    if let (None, Some(t)) = (args.threshold, chosen) {
        report.chosen_threshold = Some(ChosenThreshold {
            threshold: t,
            max_wrong_rate: args.max_wrong_rate,
            basis: format!("{}-fold cross-validation on the knowledge", args.folds),
        });
    }
    let mut shown = report.clone();
    if !args.sweep {
        shown.sweep.clear();
    }
    println!("\n{}", shown.render_text());
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json()?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("JSON report: {}", path.display());
    }
    if let Some(path) = &args.html {
        std::fs::write(path, report.render_html())
            .with_context(|| format!("writing {}", path.display()))?;
        println!("HTML report: {}", path.display());
    }
    let hybrid_hit = match embedder {
        Some(embedder) => {
            let run = HybridRun {
                args: &args,
                knowledge: &knowledge,
                suite: &suite,
                label: &label,
                config: &cv.config,
                options: &options,
            };
            Some(run_hybrid(run, embedder)?)
        }
        None => None,
    };
    if let Some(min) = args.min_hit_at_1 {
        let hit = report.metrics.hit_at_1;
        if hit < min {
            bail!("quality gate failed: hit@1 {hit:.4} is below {min:.4}");
        }
        println!("quality gate passed: hit@1 {hit:.4} >= {min:.4}");
    }
    if let (Some(min), Some(hit)) = (args.min_hybrid_hit_at_1, hybrid_hit) {
        if hit < min {
            bail!("quality gate failed: hybrid hit@1 {hit:.4} is below {min:.4}");
        }
        println!("quality gate passed: hybrid hit@1 {hit:.4} >= {min:.4}");
    }
    Ok(())
}

/// An OpenAI-compatible endpoint used synchronously: `kefu eval` runs on a blocking thread of
/// the tokio runtime (see main.rs), so it can wait for the async client there.
struct BlockingHttpEmbedder {
    client: OpenAiEmbedder,
    runtime: tokio::runtime::Handle,
}

impl TextEmbedder for BlockingHttpEmbedder {
    fn model(&self) -> &str {
        self.client.model()
    }

    fn embed_texts(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.runtime.block_on(self.client.embed(texts))
    }
}

/// The embedder asked for on the command line, if any.
fn open_embedder(args: &Args) -> anyhow::Result<Option<Arc<dyn TextEmbedder>>> {
    if let Some(folder) = &args.embeddings {
        let started = Instant::now();
        let local = LocalEmbedder::from_folder(folder)
            .with_context(|| format!("loading the embedding model in {}", folder.display()))?;
        println!(
            "embedding model {} ({} dims) loaded in {:.1} s",
            Embedder::model(&local),
            local.dimensions(),
            started.elapsed().as_secs_f64()
        );
        return Ok(Some(Arc::new(local)));
    }
    let Some(url) = &args.embeddings_url else {
        return Ok(None);
    };
    let (Some(model), Some(dimensions)) = (&args.embeddings_model, args.embeddings_dimensions)
    else {
        bail!("--embeddings-url needs --embeddings-model and --embeddings-dimensions");
    };
    let mut config = OpenAiEmbedderConfig::new(url, model, dimensions);
    if let Ok(key) = std::env::var("KEFU_EMBEDDINGS_API_KEY") {
        config = config.with_api_key(key);
    }
    let client = OpenAiEmbedder::new(config)?;
    Ok(Some(Arc::new(BlockingHttpEmbedder {
        client,
        runtime: tokio::runtime::Handle::current(),
    })))
}

/// What the hybrid run shares with the offline one.
struct HybridRun<'a> {
    args: &'a Args,
    knowledge: &'a [FaqExample],
    suite: &'a [kefu_eval::SuiteRow],
    label: &'a str,
    config: &'a MatcherConfig,
    options: &'a CvOptions,
}

/// Embeds the knowledge, cross-validates the fusion on it, evaluates the hybrid on the suite,
/// prints its report and returns its hit@1.
fn run_hybrid(run: HybridRun<'_>, embedder: Arc<dyn TextEmbedder>) -> anyhow::Result<f64> {
    let texts: Vec<String> = run.knowledge.iter().map(|k| k.text.clone()).collect();
    let progress = bar(texts.len() as u64, "embedding");
    let started = Instant::now();
    let vectors = embed_all(embedder.as_ref(), &texts, 256, &|done, _| {
        progress.set_position(done as u64)
    })?;
    progress.finish_and_clear();
    let embed_seconds = started.elapsed().as_secs_f64();

    let progress = bar(run.options.folds as u64, "hybrid CV");
    let cv = cross_validate_hybrid(
        run.knowledge,
        &vectors,
        run.config,
        &HybridGrid::default(),
        run.options,
        &|done, _| progress.set_position(done as u64),
    )?;
    progress.finish_and_clear();
    let chosen = cv.chosen.as_ref().map(|p| p.threshold);
    let threshold = run.args.threshold.or(chosen).unwrap_or(1.0);
    let started = Instant::now();
    let hybrid = HybridMatcher::train(
        run.knowledge,
        &vectors,
        run.config,
        cv.weights,
        cv.confidence_scale,
    )?;
    let train_seconds = started.elapsed().as_secs_f64();
    let answerer = HybridAnswerer::new(hybrid, embedder, threshold);
    let progress = bar(run.suite.len() as u64, "hybrid questions");
    let evaluation = evaluate(&answerer, run.suite, &EvalOptions::default(), &|done, _| {
        progress.set_position(done as u64)
    });
    progress.finish_and_clear();

    let cvm = &cv.evaluation.metrics;
    let folds = run.options.folds;
    let mut report = EvalReport::new(
        "Kefu hybrid answerer (FAQ matcher + embeddings)",
        kefu_eval::Answerer::describe(&answerer),
        run.label,
        &evaluation,
    )
    .with_fact("Training time", format!("{train_seconds:.2} s"))
    .with_fact(
        "Embedding the knowledge",
        format!(
            "{} phrasings in {embed_seconds:.1} s ({:.0} texts/s)",
            texts.len(),
            texts.len() as f64 / embed_seconds.max(1e-9)
        ),
    )
    .with_fact(
        format!("Hybrid CV on knowledge ({folds} folds): hit@1 / hit@5 / MRR@10"),
        format!(
            "{:.4} / {:.4} / {:.4}",
            cvm.hit_at_1, cvm.hit_at_5, cvm.mrr_at_10
        ),
    )
    .with_fact(
        "Same folds, hit@1: matcher / matcher with embedding block / embedding 1-NN",
        format!(
            "{:.4} / {:.4} / {:.4}",
            cv.matcher_only.hit_at_1, cv.dense_matcher_only.hit_at_1, cv.nearest_only.hit_at_1
        ),
    )
    .with_fact(
        "Fusion weights (chosen by CV)",
        serde_json::to_string(&cv.weights)?,
    )
    .with_fact(
        "Questions answered without an embedding (model errors)",
        answerer.embedding_failures().to_string(),
    );
    report.threshold = Some(threshold);
    if let (None, Some(t)) = (run.args.threshold, chosen) {
        report.chosen_threshold = Some(ChosenThreshold {
            threshold: t,
            max_wrong_rate: run.args.max_wrong_rate,
            basis: format!("{folds}-fold cross-validation on the knowledge"),
        });
    }
    let mut shown = report.clone();
    if !run.args.sweep {
        shown.sweep.clear();
    }
    println!("\n{}", shown.render_text());
    if let Some(path) = &run.args.json {
        let path = path.with_extension("hybrid.json");
        std::fs::write(&path, report.to_json()?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("JSON report (hybrid): {}", path.display());
    }
    if let Some(path) = &run.args.html {
        let path = path.with_extension("hybrid.html");
        std::fs::write(&path, report.render_html())
            .with_context(|| format!("writing {}", path.display()))?;
        println!("HTML report (hybrid): {}", path.display());
    }
    Ok(report.metrics.hit_at_1)
}

/// Reads FAQ phrasings from CSV (`entry_id,text` or BANKING77's `text,category`) or JSONL.
fn load_knowledge(path: &Path) -> anyhow::Result<Vec<FaqExample>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let is_jsonl = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
    let mut out = Vec::new();
    if is_jsonl {
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let example: FaqExample = serde_json::from_str(line).with_context(|| {
                format!(
                    "{}:{}: expected {{\"entry_id\",\"text\"}}",
                    path.display(),
                    i + 1
                )
            })?;
            out.push(example);
        }
        return Ok(out);
    }
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h.trim()));
    let (Some(id_col), Some(text_col)) = (
        col(&["entry_id", "category", "intent"]),
        col(&["text", "question"]),
    ) else {
        bail!(
            "{}: needs an entry_id (or category) column and a text (or question) column",
            path.display()
        );
    };
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let (Some(id), Some(t)) = (record.get(id_col), record.get(text_col)) else {
            bail!("{}: row {} is missing a column", path.display(), i + 2);
        };
        out.push(FaqExample::new(id.trim(), t.trim()));
    }
    Ok(out)
}

//! `kefu kb …`: the knowledge base from the command line.
//!
//! - `import PATH…` queues a durable import job (the same one the API queues). If no server
//!   holds the search index, this process runs the job itself; otherwise the running server's
//!   worker does, and this command follows its progress. Either way a progress bar shows it.
//!   `.jsonl` files written by `kb export` are imported entry by entry (a round trip).
//! - `search "…"`: the retrieval test (ranked chunks, revisions, matched terms).
//! - `reindex`: rebuilds the search index from the database; with an embedding model
//!   configured, also embeds every chunk that lacks a vector and waits until it is done.
//! - `export`: every entry of a site as JSON lines (current revision).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kefu_core::SiteId;
use kefu_core::config::Config;
use kefu_core::domain::{EntryContent, EntryStatus, Visibility};
use kefu_kb::Audience;
use kefu_kb::import::ImportSettings;
use kefu_store::{EntryQuery, EntrySource, Store};
use serde::{Deserialize, Serialize};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Import files (Markdown, text, HTML, PDF, DOCX, CSV/XLSX Q&A, or a kb export .jsonl).
    Import {
        paths: Vec<PathBuf>,
        /// Site id (default: the first site).
        #[arg(long)]
        site: Option<SiteId>,
        /// Category for articles.
        #[arg(long, default_value = "tech_doc")]
        category: String,
        /// draft, published or archived.
        #[arg(long, default_value = "published")]
        status: String,
        /// public or internal.
        #[arg(long, default_value = "public")]
        visibility: String,
    },
    /// Search the knowledge base as the assistant (visitor) or an agent would.
    Search {
        query: String,
        #[arg(long)]
        site: Option<SiteId>,
        /// visitor or agent.
        #[arg(long, default_value = "visitor")]
        audience: String,
        #[arg(long, default_value_t = 5)]
        limit: usize,
    },
    /// Rebuild the search index from the database (and, with an embedding model configured,
    /// embed the chunks that lack vectors, waiting until done).
    Reindex {
        /// Longest wait for the embeddings, in seconds.
        #[arg(long, default_value_t = 3600)]
        embed_timeout_secs: u64,
    },
    /// Write every entry of a site as JSON lines to standard output.
    Export {
        #[arg(long)]
        site: Option<SiteId>,
    },
}

/// One line of `kb export`.
#[derive(Serialize, Deserialize)]
struct ExportLine {
    id: kefu_core::KbEntryId,
    revision: i64,
    #[serde(flatten)]
    content: EntryContent,
}

async fn site_or_first(store: &Store, site: Option<SiteId>) -> anyhow::Result<SiteId> {
    match site {
        Some(id) => Ok(store
            .get_site(id)
            .await
            .with_context(|| format!("site {id}"))?
            .id),
        None => match store.list_sites().await?.first() {
            Some(site) => Ok(site.id),
            None => bail!("no site yet: run `kefu serve` once, or pass --site"),
        },
    }
}

pub async fn run(config: Config, command: Command) -> anyhow::Result<()> {
    let store = Store::open(&config.effective_database_url()).await?;
    match command {
        Command::Import {
            paths,
            site,
            category,
            status,
            visibility,
        } => {
            let site = site_or_first(&store, site).await?;
            let settings = ImportSettings {
                category,
                status: status
                    .parse::<EntryStatus>()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                visibility: visibility
                    .parse::<Visibility>()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            };
            import(config, store, site, paths, settings).await
        }
        Command::Search {
            query,
            site,
            audience,
            limit,
        } => {
            let site = site_or_first(&store, site).await?;
            let audience = match audience.as_str() {
                "visitor" => Audience::Visitor,
                "agent" => Audience::Agent,
                other => bail!("unknown audience `{other}` (visitor or agent)"),
            };
            let state = open_state(config, store.clone()).await?;
            let results = state
                .search
                .search(&store, site, &query, audience, limit)
                .await?;
            if results.is_empty() {
                println!("no results");
            }
            for (i, r) in results.iter().enumerate() {
                println!(
                    "{}. [{:.3}] {} (entry {} rev {}) {}",
                    i + 1,
                    r.score,
                    r.title,
                    r.entry_id,
                    r.revision,
                    if r.heading_path.is_empty() {
                        String::new()
                    } else {
                        r.heading_path.join(" > ")
                    }
                );
                println!("   matched: {}", r.matched_terms.join(", "));
                let excerpt: String = r.text.chars().take(160).collect();
                println!("   {}", excerpt.replace('\n', " "));
            }
            Ok(())
        }
        Command::Reindex { embed_timeout_secs } => {
            let state = open_state(config, store.clone()).await?;
            let chunks = state.search.rebuild(&store).await?;
            println!("indexed {chunks} chunks");
            // Opening the state queued every entry without vectors of the configured model.
            if let Some(vectors) = state.search.vectors() {
                let bar = ProgressBar::new_spinner();
                bar.set_message(format!("embedding with {}", vectors.model()));
                bar.enable_steady_tick(Duration::from_millis(200));
                let drained = vectors
                    .wait_idle(Duration::from_secs(embed_timeout_secs))
                    .await;
                bar.finish_and_clear();
                let status = vectors.status();
                println!(
                    "vectors: {} chunks with {} ({} texts embedded now, {} entries waiting)",
                    status.indexed_chunks,
                    status.model,
                    status.embedded_texts,
                    status.pending_entries
                );
                if !drained {
                    bail!(
                        "embedding did not finish in {embed_timeout_secs}s (last error: {})",
                        status.last_error.as_deref().unwrap_or("none")
                    );
                }
            }
            Ok(())
        }
        Command::Export { site } => {
            let site = site_or_first(&store, site).await?;
            let mut out = std::io::stdout().lock();
            let mut query = EntryQuery {
                site: Some(site),
                limit: 1000,
                ..EntryQuery::default()
            };
            loop {
                let page = store.list_kb_entries(&query).await?;
                for e in page.items {
                    let line = ExportLine {
                        id: e.id,
                        revision: e.revision,
                        content: e.content,
                    };
                    writeln!(out, "{}", serde_json::to_string(&line)?)?;
                }
                match page.next_cursor {
                    Some(c) => query.cursor = Some(c),
                    None => return Ok(()),
                }
            }
        }
    }
}

/// The server's state over the same database and data folder; fails when a running server
/// holds the search index.
async fn open_state(config: Config, store: Store) -> anyhow::Result<kefu_server::AppState> {
    kefu_server::AppState::open(config, store)
        .await
        .context("opening the search index (is `kefu serve` running on this data folder? stop it, or use the API)")
}

async fn import(
    config: Config,
    store: Store,
    site: SiteId,
    paths: Vec<PathBuf>,
    settings: ImportSettings,
) -> anyhow::Result<()> {
    if paths.is_empty() {
        bail!("name at least one file");
    }
    let mut files = Vec::new();
    let mut exports = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        if name.ends_with(".jsonl") {
            exports.push((name, bytes));
        } else {
            files.push((name, bytes));
        }
    }
    let state = open_state(config, store.clone()).await.ok();
    for (name, bytes) in exports {
        let count = import_export_file(&store, state.as_ref(), site, &name, &bytes).await?;
        println!("{name}: {count} entries imported from a kb export");
    }
    if files.is_empty() {
        return Ok(());
    }
    let params = serde_json::to_value(&settings)?;
    let job = store
        .create_job(kefu_server::jobs::KB_IMPORT, site, &params, &files, None)
        .await?;
    let bar = ProgressBar::new(job.total as u64);
    bar.set_style(
        ProgressStyle::with_template("importing [{bar:40}] {pos}/{len} files {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    match &state {
        Some(state) => {
            // No server holds the index: run the job here, the same way the server would.
            let claimed = store.claim_job(kefu_server::jobs::KB_IMPORT).await?;
            if let Some(claimed) = claimed {
                let runner = kefu_server::jobs::run_import(state, claimed);
                let watcher = watch(&store, &job.id, &bar);
                tokio::join!(runner, watcher);
            }
        }
        None => {
            println!(
                "a server is running on this data folder; its worker imports job {}",
                job.id
            );
        }
    }
    watch(&store, &job.id, &bar).await;
    bar.finish_and_clear();
    let job = store.get_job(&job.id).await?;
    for f in store.list_job_files(&job.id).await? {
        let r = f.result.unwrap_or_default();
        if r["ok"] == true {
            println!(
                "ok      {}: {} created, {} updated, {} unchanged{}",
                f.name,
                r["created"].as_array().map_or(0, Vec::len),
                r["updated"].as_array().map_or(0, Vec::len),
                r["unchanged"],
                r["warnings"]
                    .as_array()
                    .filter(|w| !w.is_empty())
                    .map_or(String::new(), |w| format!(", {} warnings", w.len()))
            );
        } else {
            println!(
                "failed  {}: {} ({})",
                f.name,
                r["error"].as_str().unwrap_or("?"),
                r["error_code"].as_str().unwrap_or("?")
            );
        }
    }
    println!(
        "job {}: {} ({} files, {} failed)",
        job.id, job.status, job.total, job.failed
    );
    if job.status == "failed" {
        bail!("import failed: {}", job.error.unwrap_or_default());
    }
    Ok(())
}

/// Follows a job's progress until it ends.
async fn watch(store: &Store, id: &str, bar: &ProgressBar) {
    loop {
        match store.get_job(id).await {
            Ok(job) => {
                bar.set_position(job.done as u64);
                if job.status == "done" || job.status == "failed" {
                    return;
                }
            }
            Err(_) => return,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Imports a `kb export` file. Into the site it came from, each line updates its own entry
/// (a new revision only when the content differs); into another site, it becomes an entry
/// keyed by its original id, so importing the same file twice does not duplicate.
async fn import_export_file(
    store: &Store,
    state: Option<&kefu_server::AppState>,
    site: SiteId,
    name: &str,
    bytes: &[u8],
) -> anyhow::Result<usize> {
    let text = std::str::from_utf8(bytes).with_context(|| format!("{name} is not UTF-8"))?;
    let mut count = 0;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line: ExportLine =
            serde_json::from_str(line).with_context(|| format!("{name}:{}", i + 1))?;
        let content = line
            .content
            .validated()
            .with_context(|| format!("{name}:{}", i + 1))?;
        let key = format!("export:{}", line.id);
        let hash = kefu_import::content_hash(&serde_json::to_string(&content)?);
        // Back into the site it came from: the same entry, with a new revision if it differs.
        if let Ok(existing) = store.get_kb_entry(line.id).await
            && existing.site_id == site
        {
            if existing.content != content {
                let entry = store
                    .update_kb_entry(existing.id, &content, None, Some(name), None, None)
                    .await?;
                if let Some(state) = state {
                    state.knowledge_changed(&entry).await;
                }
            }
            count += 1;
            continue;
        }
        let entry = match store.find_kb_entry_by_source(site, &key).await? {
            Some((_, Some(h))) if h == hash => None,
            Some((existing, _)) => Some(
                store
                    .update_kb_entry(existing.id, &content, None, Some(name), None, Some(&hash))
                    .await?,
            ),
            None => {
                let source = EntrySource {
                    key: Some(key),
                    content_hash: Some(hash),
                };
                Some(
                    store
                        .create_kb_entry(site, &content, None, Some(name), &source)
                        .await?,
                )
            }
        };
        if let (Some(entry), Some(state)) = (entry, state) {
            state.knowledge_changed(&entry).await;
        }
        count += 1;
    }
    Ok(count)
}

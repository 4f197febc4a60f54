//! Shared state handed to every handler: the store, the realtime hub, the configuration, the
//! per-visitor message limiter, the knowledge indexes, the answer engine and each site's
//! language-model gateway.

use std::sync::Arc;

use kefu_ai::AnswerEngine;
use kefu_core::config::Config;
use kefu_import::ChunkOptions;
use kefu_kb::search::KbSearch;
use kefu_kb::vectors::KbVectors;
use kefu_kb::{FaqIndexes, MatcherConfig};
use kefu_search::FusionWeights;
use kefu_store::Store;

use crate::ai_providers::SiteGateways;
use crate::chat::bot::KnowledgeRetriever;
use crate::secrets::SecretBox;

use crate::rate_limit::VisitorLimiter;
use crate::realtime::Hub;

/// Cheap to clone: one `Arc` inside.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What the state holds.
pub struct Inner {
    pub store: Store,
    pub hub: Hub,
    pub config: Config,
    pub limiter: VisitorLimiter,
    /// Trained FAQ indexes per site; invalidated whenever a site's knowledge changes.
    pub faq: Arc<FaqIndexes>,
    /// Decides the assistant's replies.
    pub answers: AnswerEngine,
    /// The knowledge base's full-text index (under `<data_dir>/index`).
    pub search: Arc<KbSearch>,
    /// Each site's language-model gateway (none: the assistant answers offline).
    pub gateways: SiteGateways,
    /// Wakes the job worker when a job is queued.
    pub jobs_queued: tokio::sync::Notify,
}

impl AppState {
    /// Builds the state for a configuration and an opened, migrated store: opens the search
    /// index under the data folder, rebuilding it from the database when it is missing or
    /// stale.
    pub async fn open(config: Config, store: Store) -> anyhow::Result<Self> {
        let dir = config.data_dir.join("index");
        let (mut search, rebuilt) = KbSearch::open(&store, &dir, ChunkOptions::default()).await?;
        if let Some(chunks) = rebuilt {
            tracing::info!(chunks, dir = %dir.display(), "search index rebuilt from the database");
        }
        if let Some(embedder) = crate::embeddings::open(&config).await? {
            let vectors =
                KbVectors::start(store.clone(), embedder, search.chunking().clone()).await?;
            search.set_vectors(vectors, FusionWeights::default());
        }
        if let Some(reranker) = reranker(&config)? {
            search.set_reranker(reranker);
        }
        let limiter = VisitorLimiter::new(
            config.visitor_messages_per_minute,
            config.visitor_message_burst,
        );
        let hub = Hub::new(config.ws_send_queue.max(16));
        let faq = Arc::new(FaqIndexes::new(store.clone(), MatcherConfig::default()));
        let search = Arc::new(search);
        let answers = AnswerEngine::new(Arc::new(KnowledgeRetriever {
            store: store.clone(),
            faq: faq.clone(),
            search: search.clone(),
            min_similarity: config.embeddings_min_similarity,
        }));
        let secrets = SecretBox::load(&config.secret_key, &config.data_dir)?;
        let gateways = SiteGateways::new(store.clone(), secrets);
        let requeued = store.requeue_running_jobs().await?;
        if requeued > 0 {
            tracing::info!(
                jobs = requeued,
                "resuming background jobs interrupted by the last stop"
            );
        }
        Ok(Self(Arc::new(Inner {
            store,
            hub,
            config,
            limiter,
            faq,
            answers,
            search,
            gateways,
            jobs_queued: tokio::sync::Notify::new(),
        })))
    }

    /// After many entries changed at once (an import): one index commit for all of them.
    pub async fn knowledge_changed_many(&self, entries: &[kefu_core::domain::KbEntry]) {
        for site in entries
            .iter()
            .map(|e| e.site_id)
            .collect::<std::collections::HashSet<_>>()
        {
            self.faq.invalidate(site);
        }
        if let Err(e) = self.search.index_entries(entries).await {
            tracing::error!(entries = entries.len(), error = %e, "indexing failed; a restart rebuilds the index");
        }
    }

    /// After an entry changed: retrain its site's FAQ index on next use and re-index its
    /// chunks. An index failure is logged, not returned: the entry is safely stored, and the
    /// index is rebuilt from the database on the next start.
    pub async fn knowledge_changed(&self, entry: &kefu_core::domain::KbEntry) {
        self.faq.invalidate(entry.site_id);
        if let Err(e) = self.search.index_entry(entry).await {
            tracing::error!(entry = %entry.id, error = %e, "indexing failed; a restart rebuilds the index");
        }
    }
}

/// The rerank endpoint from the configuration, if one is set.
fn reranker(config: &Config) -> anyhow::Result<Option<kefu_kb::rerank::KbReranker>> {
    let url = config.rerank_url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let client = kefu_search::Reranker::new(kefu_search::RerankerConfig {
        url: url.to_owned(),
        model: config.rerank_model.clone(),
        api_key: Some(config.rerank_api_key.clone()).filter(|k| !k.is_empty()),
        timeout: std::time::Duration::from_millis(config.rerank_timeout_ms.max(1)),
    })?;
    Ok(Some(kefu_kb::rerank::KbReranker {
        client,
        top_n: config.rerank_top_n.clamp(1, 200),
    }))
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

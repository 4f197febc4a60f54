//! The embedding model the knowledge base's hybrid search uses, chosen by configuration: a
//! local sentence-transformers folder run in-process (no network; the default way to get
//! hybrid search offline), or an OpenAI-compatible `/v1/embeddings` endpoint. Neither
//! configured: full-text search only.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use kefu_core::config::Config;
use kefu_search::{Embedder, LocalEmbedder, OpenAiEmbedder, OpenAiEmbedderConfig};

/// Opens the configured embedding model, if any. A configured model that cannot be loaded is
/// an error at start-up rather than a silent fall-back to full text.
pub async fn open(config: &Config) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    let folder = config.embeddings_model_dir.trim();
    let url = config.embeddings_url.trim();
    if !folder.is_empty() && !url.is_empty() {
        anyhow::bail!("set either embeddings_model_dir or embeddings_url, not both");
    }
    if !folder.is_empty() {
        let folder = PathBuf::from(folder);
        let shown = folder.display().to_string();
        // Reading ~90 MB of weights is blocking work.
        let local = tokio::task::spawn_blocking(move || LocalEmbedder::from_folder(folder))
            .await?
            .with_context(|| format!("loading the embedding model in {shown}"))?;
        tracing::info!(model = local.model(), folder = %shown, "local embedding model loaded");
        return Ok(Some(Arc::new(local)));
    }
    if !url.is_empty() {
        if config.embeddings_model.trim().is_empty() || config.embeddings_dimensions == 0 {
            anyhow::bail!("embeddings_url needs embeddings_model and embeddings_dimensions");
        }
        let mut endpoint = OpenAiEmbedderConfig::new(
            url,
            config.embeddings_model.trim(),
            config.embeddings_dimensions,
        );
        if !config.embeddings_api_key.is_empty() {
            endpoint = endpoint.with_api_key(config.embeddings_api_key.clone());
        }
        let client = OpenAiEmbedder::new(endpoint).context("embeddings endpoint")?;
        tracing::info!(
            model = client.model(),
            url = client.url(),
            "embeddings endpoint configured"
        );
        return Ok(Some(Arc::new(client)));
    }
    Ok(None)
}

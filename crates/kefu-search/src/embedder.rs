//! Text embedding behind one trait, and a client for OpenAI-compatible embedding endpoints
//! (OpenAI, Azure-style gateways, Ollama, vLLM, text-embeddings-inference, …).
//!
//! The trait returns a boxed future instead of using `async fn` so it stays object-safe: the
//! server holds an `Arc<dyn Embedder>` chosen per site at run time, and a local in-process
//! model can implement the same trait later. [`Embedder::model`] names the vector space, which
//! is how [`VectorIndex`](crate::VectorIndex) keeps models apart.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::EmbedError;

/// The future returned by [`Embedder::embed`].
pub type EmbedFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Vec<f32>>, EmbedError>> + Send + 'a>>;

/// Turns texts into vectors of one model.
pub trait Embedder: Send + Sync {
    /// The model name; vectors of different names are never compared.
    fn model(&self) -> &str;

    /// Length of every returned vector.
    fn dimensions(&self) -> usize;

    /// Embeds `texts`, returning one vector per text in the same order. Implementations
    /// check count and dimensions, so callers can store the result as is.
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a>;
}

/// Configuration of an [`OpenAiEmbedder`].
#[derive(Clone)]
pub struct OpenAiEmbedderConfig {
    /// Server root such as `https://api.openai.com` or `http://127.0.0.1:11434`; a trailing
    /// `/v1` is accepted too. Requests go to `{base}/v1/embeddings`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set (local servers often need none).
    pub api_key: Option<String>,
    /// Model name sent to the server and used to label vectors.
    pub model: String,
    /// Expected vector length; responses of another length are rejected.
    pub dimensions: usize,
    /// Maximum texts per request (providers cap the batch; OpenAI allows 2048).
    pub batch_size: usize,
    /// Limit for a whole request including the response body.
    pub timeout: Duration,
    /// Limit for establishing the connection.
    pub connect_timeout: Duration,
}

impl std::fmt::Debug for OpenAiEmbedderConfig {
    // Hand-written so the API key never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedderConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("dimensions", &self.dimensions)
            .field("batch_size", &self.batch_size)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl OpenAiEmbedderConfig {
    /// A configuration with defaults: no key, 64 texts per batch, 60 s request and 10 s
    /// connect timeouts.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>, dimensions: usize) -> Self {
        OpenAiEmbedderConfig {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            dimensions,
            batch_size: 64,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// Sets the API key (builder style).
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the batch size (builder style).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the request timeout (builder style).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Client for `POST {base_url}/v1/embeddings` in the OpenAI wire format.
#[derive(Debug, Clone)]
pub struct OpenAiEmbedder {
    config: OpenAiEmbedderConfig,
    url: String,
    client: reqwest::Client,
}

#[derive(Serialize)]
struct EmbeddingRequest<'a> {
    model: &'a str,
    input: &'a [String],
}

#[derive(Deserialize)]
struct EmbeddingResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    embedding: Vec<f32>,
    /// Some servers omit it; then list order is the input order.
    #[serde(default)]
    index: Option<usize>,
}

/// Longest provider error text we keep; bodies can be whole HTML error pages.
const MAX_ERROR_CHARS: usize = 500;

/// Pulls a human-readable message out of an error body: OpenAI's `{"error":{"message"}}`,
/// the `{"error":"…"}` or `{"message":"…"}` variants of other servers, else the raw text.
fn error_message(body: &str) -> String {
    let from_json = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("error"))
                .or_else(|| v.get("message"))
                .or_else(|| v.get("detail"))
                .and_then(|m| m.as_str().map(str::to_string))
        });
    let message = from_json.unwrap_or_else(|| body.trim().to_string());
    if message.is_empty() {
        return "(empty body)".to_string();
    }
    message.chars().take(MAX_ERROR_CHARS).collect()
}

impl OpenAiEmbedder {
    /// Builds the client; fails on an empty URL or model, zero dimensions or batch size.
    pub fn new(config: OpenAiEmbedderConfig) -> Result<Self, EmbedError> {
        if config.model.trim().is_empty() {
            return Err(EmbedError::Config("model name is empty".into()));
        }
        if config.dimensions == 0 || config.batch_size == 0 {
            return Err(EmbedError::Config(
                "dimensions and batch size must be positive".into(),
            ));
        }
        let base = config.base_url.trim().trim_end_matches('/');
        if base.is_empty() {
            return Err(EmbedError::Config("base URL is empty".into()));
        }
        // People paste either the server root or the OpenAI-style `/v1` base; accept both.
        let url = if base.ends_with("/v1") {
            format!("{base}/embeddings")
        } else {
            format!("{base}/v1/embeddings")
        };
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| EmbedError::Config(format!("building HTTP client: {e}")))?;
        Ok(OpenAiEmbedder {
            config,
            url,
            client,
        })
    }

    /// The endpoint requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn embed_batch(&self, batch: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let transport = |source| EmbedError::Transport {
            url: self.url.clone(),
            source,
        };
        let mut request = self.client.post(&self.url).json(&EmbeddingRequest {
            model: &self.config.model,
            input: batch,
        });
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let body = response.text().await.map_err(transport)?;
        if !status.is_success() {
            return Err(EmbedError::Status {
                status: status.as_u16(),
                message: error_message(&body),
            });
        }
        let parsed: EmbeddingResponse =
            serde_json::from_str(&body).map_err(|e| EmbedError::Decode(e.to_string()))?;
        if parsed.data.len() != batch.len() {
            return Err(EmbedError::WrongCount {
                expected: batch.len(),
                got: parsed.data.len(),
            });
        }
        let mut ordered: Vec<Option<Vec<f32>>> = vec![None; batch.len()];
        for (position, item) in parsed.data.into_iter().enumerate() {
            if item.embedding.len() != self.config.dimensions {
                return Err(EmbedError::WrongDimensions {
                    model: self.config.model.clone(),
                    expected: self.config.dimensions,
                    got: item.embedding.len(),
                });
            }
            let index = item.index.unwrap_or(position);
            match ordered.get_mut(index) {
                Some(slot @ None) => *slot = Some(item.embedding),
                _ => {
                    return Err(EmbedError::Decode(format!(
                        "response index {index} is out of range or repeated"
                    )));
                }
            }
        }
        // Every slot is filled: the count matched and no index repeated.
        Ok(ordered.into_iter().flatten().collect())
    }
}

impl Embedder for OpenAiEmbedder {
    fn model(&self) -> &str {
        &self.config.model
    }

    fn dimensions(&self) -> usize {
        self.config.dimensions
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(texts.len());
            // Sequential batches: embedding runs in background jobs, and one request at a time
            // keeps us under provider rate limits without extra machinery.
            for batch in texts.chunks(self.config.batch_size) {
                out.extend(self.embed_batch(batch).await?);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_understands_common_shapes() {
        assert_eq!(
            error_message(r#"{"error":{"message":"bad key","type":"auth"}}"#),
            "bad key"
        );
        assert_eq!(
            error_message(r#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(error_message("upstream exploded"), "upstream exploded");
        assert_eq!(error_message(""), "(empty body)");
        assert_eq!(error_message(&"x".repeat(2000)).len(), MAX_ERROR_CHARS);
    }

    #[test]
    fn url_accepts_root_or_v1_base() {
        let root = OpenAiEmbedder::new(OpenAiEmbedderConfig::new("http://h:1/", "m", 3));
        assert_eq!(
            root.map(|e| e.url).ok().as_deref(),
            Some("http://h:1/v1/embeddings")
        );
        let v1 = OpenAiEmbedder::new(OpenAiEmbedderConfig::new("http://h:1/v1", "m", 3));
        assert_eq!(
            v1.map(|e| e.url).ok().as_deref(),
            Some("http://h:1/v1/embeddings")
        );
    }

    #[test]
    fn bad_config_is_rejected_and_key_is_not_printed() {
        assert!(OpenAiEmbedder::new(OpenAiEmbedderConfig::new("", "m", 3)).is_err());
        assert!(OpenAiEmbedder::new(OpenAiEmbedderConfig::new("http://h", "m", 0)).is_err());
        let config = OpenAiEmbedderConfig::new("http://h", "m", 3).with_api_key("sk-secret");
        assert!(!format!("{config:?}").contains("sk-secret"));
    }
}

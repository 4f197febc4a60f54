//! An optional cross-encoder reranker behind an HTTP endpoint: the first N fused hits are sent
//! with the question, and the endpoint scores each against it. Far more precise than BM25 or
//! vector similarity on the few hits it sees, too slow to run on the whole index.
//!
//! Wire format: the one Cohere, Jina, Voyage and Hugging Face TEI-compatible servers share,
//! `POST {model, query, documents: [..], top_n}` answered with
//! `{results: [{index, relevance_score}]}`; a bare `[{index, score}]` list (TEI's native
//! `/rerank`) is read too. The caller treats any failure as "keep the order you had".

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::EmbedError;

/// Where and how to rerank.
#[derive(Clone)]
pub struct RerankerConfig {
    /// The full endpoint address, e.g. `http://127.0.0.1:8080/rerank`.
    pub url: String,
    /// Model name sent with each request (empty: left out, for single-model servers).
    pub model: String,
    /// Bearer key, if the endpoint needs one.
    pub api_key: Option<String>,
    /// Whole-request limit: reranking sits on the answer path, so it must fail fast.
    pub timeout: Duration,
}

impl std::fmt::Debug for RerankerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RerankerConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A reranking client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Reranker {
    client: reqwest::Client,
    config: RerankerConfig,
}

#[derive(Serialize)]
struct Request<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    model: &'a str,
    query: &'a str,
    documents: &'a [String],
    top_n: usize,
}

#[derive(Deserialize)]
struct Scored {
    index: usize,
    #[serde(alias = "score")]
    relevance_score: f32,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Response {
    Results { results: Vec<Scored> },
    Bare(Vec<Scored>),
}

impl Reranker {
    /// Builds the client (no request is made).
    pub fn new(config: RerankerConfig) -> Result<Self, EmbedError> {
        if !(config.url.starts_with("http://") || config.url.starts_with("https://")) {
            return Err(EmbedError::Config(format!(
                "rerank url must be http(s): {:?}",
                config.url
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| EmbedError::Config(e.to_string()))?;
        Ok(Self { client, config })
    }

    /// The endpoint address.
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// Scores `documents` against `query`: `(index into documents, relevance)`, most relevant
    /// first. Indexes out of range or repeated are dropped; documents the endpoint left out
    /// are simply absent (the caller keeps them after the scored ones).
    pub async fn rerank(
        &self,
        query: &str,
        documents: &[String],
    ) -> Result<Vec<(usize, f32)>, EmbedError> {
        if documents.is_empty() {
            return Ok(Vec::new());
        }
        let mut request = self.client.post(&self.config.url).json(&Request {
            model: &self.config.model,
            query,
            documents,
            top_n: documents.len(),
        });
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let transport = |source| EmbedError::Transport {
            url: self.config.url.clone(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            return Err(EmbedError::Status {
                status: status.as_u16(),
                message: String::from_utf8_lossy(&body).chars().take(300).collect(),
            });
        }
        let parsed: Response =
            serde_json::from_slice(&body).map_err(|e| EmbedError::Decode(e.to_string()))?;
        let scored = match parsed {
            Response::Results { results } => results,
            Response::Bare(list) => list,
        };
        let mut seen = vec![false; documents.len()];
        let mut out: Vec<(usize, f32)> = scored
            .into_iter()
            .filter(|s| s.relevance_score.is_finite())
            .filter(|s| match seen.get_mut(s.index) {
                Some(flag) if !*flag => {
                    *flag = true;
                    true
                }
                _ => false,
            })
            .map(|s| (s.index, s.relevance_score))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(out)
    }
}

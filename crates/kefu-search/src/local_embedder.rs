//! An in-process sentence-embedding model: a BERT-family sentence-transformers folder (for
//! example all-MiniLM-L6-v2) run on the CPU with candle, behind the same [`Embedder`] trait as
//! the HTTP client, so a site can have vector search with no outside service at all.
//!
//! What a folder must hold: `model.safetensors` (the weights), `tokenizer.json` (a Hugging Face
//! tokenizer) and `config.json` (a BERT config). Optional sentence-transformers files refine
//! the behaviour: `sentence_bert_config.json` gives the truncation length the model was trained
//! with (`max_seq_length`), and `1_Pooling/config.json` says whether the sentence vector is the
//! mean of the token vectors (the default, and all-MiniLM-L6-v2's) or the `[CLS]` token's.
//!
//! Why it is shaped like this:
//!
//! - Padding and truncation are set here, not taken from `tokenizer.json`: all-MiniLM-L6-v2's
//!   file pads every text to 128 tokens and truncates at 128, while the model was trained with
//!   256. We truncate to the model's length and pad each batch only to its longest text.
//! - Texts are sorted by token count before batching, so a batch holds texts of similar length
//!   and little compute goes to padding; results are put back in input order.
//! - Mean pooling multiplies by the attention mask, so padding tokens never leak into a
//!   sentence vector: a text embeds the same alone or in any batch.
//! - Vectors are L2-normalised, so the dot product is the cosine similarity, as
//!   [`VectorIndex`](crate::VectorIndex) expects.
//! - Inference is CPU-bound (tens of milliseconds per batch), so the async [`Embedder::embed`]
//!   runs it on tokio's blocking pool and never stalls the runtime's worker threads;
//!   [`LocalEmbedder::embed_blocking`] serves synchronous callers such as the evaluation tools.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use serde::Deserialize;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::embedder::{EmbedFuture, Embedder};
use crate::error::EmbedError;

/// Texts per forward pass by default: large enough to keep the matrix kernels busy, small
/// enough that a batch of long texts stays within a few hundred megabytes of activations.
pub const DEFAULT_BATCH_SIZE: usize = 32;

/// How token vectors become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// The mean of the token vectors over the attention mask (sentence-transformers' default).
    Mean,
    /// The vector of the first (`[CLS]`) token, as BGE-style models are trained.
    Cls,
}

/// Where and how to load a [`LocalEmbedder`].
#[derive(Debug, Clone)]
pub struct LocalEmbedderConfig {
    /// The model folder (holding `model.safetensors`, `tokenizer.json`, `config.json`).
    pub folder: PathBuf,
    /// The model name vectors are labelled with; default: the folder's name.
    pub name: Option<String>,
    /// Texts per forward pass.
    pub batch_size: usize,
    /// Longest input in tokens (special tokens included); default: the model's own
    /// `max_seq_length`, else the position-embedding limit. Longer texts are truncated.
    pub max_length: Option<usize>,
}

impl LocalEmbedderConfig {
    /// A configuration for `folder` with the defaults.
    pub fn new(folder: impl Into<PathBuf>) -> Self {
        Self {
            folder: folder.into(),
            name: None,
            batch_size: DEFAULT_BATCH_SIZE,
            max_length: None,
        }
    }

    /// Labels vectors with `name` instead of the folder's name (builder style).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the batch size (builder style).
    #[must_use]
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the truncation length in tokens (builder style).
    #[must_use]
    pub fn with_max_length(mut self, max_length: usize) -> Self {
        self.max_length = Some(max_length);
        self
    }
}

/// A sentence-embedding model loaded in memory. Cheap to clone (the model is shared).
#[derive(Clone)]
pub struct LocalEmbedder {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    dimensions: usize,
    batch_size: usize,
    max_length: usize,
    pooling: Pooling,
    tokenizer: Tokenizer,
    model: BertModel,
    device: Device,
}

impl std::fmt::Debug for LocalEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEmbedder")
            .field("name", &self.inner.name)
            .field("dimensions", &self.inner.dimensions)
            .field("max_length", &self.inner.max_length)
            .field("pooling", &self.inner.pooling)
            .field("batch_size", &self.inner.batch_size)
            .finish_non_exhaustive()
    }
}

/// The fields of `sentence_bert_config.json` we use.
#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

/// The fields of `1_Pooling/config.json` we use.
#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
}

fn model_error(folder: &Path, what: impl std::fmt::Display) -> EmbedError {
    EmbedError::Model(format!("{}: {what}", folder.display()))
}

impl LocalEmbedder {
    /// Loads the model in `folder` with default settings.
    ///
    /// # Errors
    /// See [`LocalEmbedder::load`].
    pub fn from_folder(folder: impl Into<PathBuf>) -> Result<Self, EmbedError> {
        Self::load(LocalEmbedderConfig::new(folder))
    }

    /// Loads the weights, tokenizer and config. Takes a second or so for a small model; call
    /// it once and share the result.
    ///
    /// # Errors
    /// [`EmbedError::Config`] for a zero batch size or an empty name; [`EmbedError::Model`]
    /// when a file is missing or unreadable, the config is not a BERT config, the weights do
    /// not match it, or a pooling mode other than mean or CLS is asked for.
    pub fn load(config: LocalEmbedderConfig) -> Result<Self, EmbedError> {
        if config.batch_size == 0 {
            return Err(EmbedError::Config("batch size must be positive".into()));
        }
        let folder = config.folder.as_path();
        let read = |file: &str| {
            std::fs::read(folder.join(file))
                .map_err(|e| model_error(folder, format!("{file}: {e}")))
        };

        let bert_config: BertConfig = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| model_error(folder, format!("config.json is not a BERT config: {e}")))?;
        let pooling = read_pooling(folder)?;
        let max_length = match config.max_length {
            Some(n) => n,
            None => read_max_seq_length(folder)?.unwrap_or(bert_config.max_position_embeddings),
        }
        // Positions beyond the embedding table do not exist; 2 leaves room for [CLS] and [SEP].
        .clamp(2, bert_config.max_position_embeddings);

        let mut tokenizer = Tokenizer::from_file(folder.join("tokenizer.json"))
            .map_err(|e| model_error(folder, format!("tokenizer.json: {e}")))?;
        // Padding is done per batch below; the file's fixed padding would waste compute.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| model_error(folder, format!("setting truncation: {e}")))?;

        let device = Device::Cpu;
        let weights = read("model.safetensors")?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| model_error(folder, format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &bert_config).map_err(|e| {
            model_error(
                folder,
                format!("weights do not fit a BERT model of config.json: {e}"),
            )
        })?;

        let name = match config.name {
            Some(name) => name,
            None => folder
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        if name.trim().is_empty() {
            return Err(EmbedError::Config(
                "model name is empty (give one, or load from a named folder)".into(),
            ));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                name,
                dimensions: bert_config.hidden_size,
                batch_size: config.batch_size,
                max_length,
                pooling,
                tokenizer,
                model,
                device,
            }),
        })
    }

    /// The truncation length in tokens, special tokens included.
    #[must_use]
    pub fn max_length(&self) -> usize {
        self.inner.max_length
    }

    /// How token vectors are pooled.
    #[must_use]
    pub fn pooling(&self) -> Pooling {
        self.inner.pooling
    }

    /// Embeds `texts` on the calling thread: one unit-length vector per text, in order.
    /// Blocks for as long as the model runs; async code should call [`Embedder::embed`].
    ///
    /// # Errors
    /// [`EmbedError::Model`] when tokenisation or inference fails.
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.inner.embed(texts)
    }
}

/// Reads the pooling mode; a folder without `1_Pooling/config.json` gets mean pooling.
fn read_pooling(folder: &Path) -> Result<Pooling, EmbedError> {
    let path = folder.join("1_Pooling").join("config.json");
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(Pooling::Mean);
    };
    let config: PoolingConfig = serde_json::from_slice(&bytes)
        .map_err(|e| model_error(folder, format!("1_Pooling/config.json: {e}")))?;
    match (
        config.pooling_mode_mean_tokens,
        config.pooling_mode_cls_token,
    ) {
        (true, false) => Ok(Pooling::Mean),
        (false, true) => Ok(Pooling::Cls),
        _ => Err(model_error(
            folder,
            "1_Pooling/config.json asks for a pooling other than mean or CLS alone",
        )),
    }
}

/// Reads `max_seq_length` from `sentence_bert_config.json`, if the folder has one.
fn read_max_seq_length(folder: &Path) -> Result<Option<usize>, EmbedError> {
    let Ok(bytes) = std::fs::read(folder.join("sentence_bert_config.json")) else {
        return Ok(None);
    };
    let config: SentenceBertConfig = serde_json::from_slice(&bytes)
        .map_err(|e| model_error(folder, format!("sentence_bert_config.json: {e}")))?;
    Ok(config.max_seq_length)
}

fn inference_error(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Model(format!("inference failed: {e}"))
}

impl Inner {
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.iter().map(String::as_str).collect::<Vec<_>>(), true)
            .map_err(|e| EmbedError::Model(format!("tokenising: {e}")))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();

        // Longest first, so the first batch shows the peak memory at once; ties keep input
        // order so that the batching, and so the last bits of every vector, are deterministic.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));

        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for batch in order.chunks(self.batch_size) {
            let batch_ids: Vec<&[u32]> = batch.iter().map(|&i| ids[i]).collect();
            let vectors = self.forward(&batch_ids)?;
            for (&i, v) in batch.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// Runs one padded batch through the model and pools it.
    fn forward(&self, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // An empty text still has [CLS] and [SEP]; the max(1) only guards odd tokenizers.
        let width = batch.iter().map(|ids| ids.len()).max().unwrap_or(0).max(1);
        let rows = batch.len();
        let mut input = vec![0_u32; rows * width];
        let mut mask = vec![0_u32; rows * width];
        for (r, ids) in batch.iter().enumerate() {
            input[r * width..r * width + ids.len()].copy_from_slice(ids);
            mask[r * width..r * width + ids.len()].fill(1);
        }
        let input =
            Tensor::from_vec(input, (rows, width), &self.device).map_err(inference_error)?;
        let mask = Tensor::from_vec(mask, (rows, width), &self.device).map_err(inference_error)?;
        let token_types = input.zeros_like().map_err(inference_error)?;
        let hidden = self
            .model
            .forward(&input, &token_types, Some(&mask))
            .map_err(inference_error)?;
        let pooled = match self.pooling {
            Pooling::Cls => hidden.narrow(1, 0, 1).and_then(|t| t.squeeze(1)),
            Pooling::Mean => mean_pool(&hidden, &mask),
        }
        .map_err(inference_error)?;
        let vectors: Vec<Vec<f32>> = pooled.to_vec2().map_err(inference_error)?;
        vectors
            .into_iter()
            .map(|v| {
                if v.len() != self.dimensions {
                    return Err(EmbedError::WrongDimensions {
                        model: self.name.clone(),
                        expected: self.dimensions,
                        got: v.len(),
                    });
                }
                normalise(v)
            })
            .collect()
    }
}

/// Mean of the token vectors `hidden` (`rows × width × dims`) over the tokens where `mask`
/// (`rows × width`) is 1.
fn mean_pool(hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
    // Every row has at least [CLS], so the count is never zero; the clamp only keeps a
    // malformed batch from dividing by zero.
    let counts = mask.sum(1)?.clamp(1e-9_f32, f32::MAX)?;
    summed.broadcast_div(&counts)
}

/// Scales `v` to unit length; a zero or non-finite vector is an inference fault.
fn normalise(mut v: Vec<f32>) -> Result<Vec<f32>, EmbedError> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if !(norm.is_finite() && norm > 0.0) {
        return Err(EmbedError::Model(
            "the model produced a zero or non-finite vector".into(),
        ));
    }
    v.iter_mut().for_each(|x| *x /= norm);
    Ok(v)
}

impl Embedder for LocalEmbedder {
    fn model(&self) -> &str {
        &self.inner.name
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            // Outside a tokio runtime (another executor, or a plain `block_on`) there is no
            // blocking pool to move to; running inline is then the only option.
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return self.inner.embed(texts);
            };
            let inner = self.inner.clone();
            let owned = texts.to_vec();
            runtime
                .spawn_blocking(move || inner.embed(&owned))
                .await
                .map_err(|e| EmbedError::Model(format!("embedding task failed: {e}")))?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_gives_unit_length_and_rejects_zero() {
        let v = normalise(vec![3.0, 4.0]).unwrap();
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        assert!(normalise(vec![0.0, 0.0]).is_err());
        assert!(normalise(vec![f32::NAN, 1.0]).is_err());
    }

    #[test]
    fn mean_pool_ignores_padding() {
        // Two rows of three tokens with 2-d vectors; the second row's last token is padding
        // with a huge value that must not count.
        let hidden = Tensor::from_vec(
            vec![
                1.0_f32, 0.0, 3.0, 0.0, 5.0, 0.0, //
                0.0, 2.0, 0.0, 4.0, 0.0, 1000.0,
            ],
            (2, 3, 2),
            &Device::Cpu,
        )
        .unwrap();
        let mask = Tensor::from_vec(vec![1_u32, 1, 1, 1, 1, 0], (2, 3), &Device::Cpu).unwrap();
        let pooled: Vec<Vec<f32>> = mean_pool(&hidden, &mask).unwrap().to_vec2().unwrap();
        assert_eq!(pooled, vec![vec![3.0, 0.0], vec![0.0, 3.0]]);
    }

    #[test]
    fn missing_folder_is_a_model_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = LocalEmbedder::from_folder(dir.path()).unwrap_err();
        assert!(matches!(err, EmbedError::Model(_)), "{err:?}");
        assert!(err.to_string().contains("config.json"), "{err}");
        let zero = LocalEmbedder::load(LocalEmbedderConfig::new(dir.path()).with_batch_size(0));
        assert!(matches!(zero, Err(EmbedError::Config(_))));
    }

    #[test]
    fn pooling_config_is_read() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_pooling(dir.path()).unwrap(), Pooling::Mean);
        std::fs::create_dir(dir.path().join("1_Pooling")).unwrap();
        let write = |json: &str| {
            std::fs::write(dir.path().join("1_Pooling/config.json"), json).unwrap();
        };
        write(r#"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#);
        assert_eq!(read_pooling(dir.path()).unwrap(), Pooling::Cls);
        write(r#"{"pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true}"#);
        assert_eq!(read_pooling(dir.path()).unwrap(), Pooling::Mean);
        write(r#"{"pooling_mode_max_tokens": true}"#);
        assert!(read_pooling(dir.path()).is_err());
    }
}

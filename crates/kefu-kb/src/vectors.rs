//! Vector search over the knowledge base: every chunk of every entry is embedded by one
//! configured model (a local sentence-transformers folder or an OpenAI-compatible endpoint),
//! stored durably in the database, and searched exactly in memory beside the full-text index.
//!
//! Vectors are content-addressed: a row is keyed by the model's name and a SHA-256 of the exact
//! text embedded. Permissions and status are never stored with a vector; they come from the
//! entry every time the entry's vectors are (re)installed, so visibility changes apply at once
//! and a vector can never leak an internal entry to visitors. The consequences:
//! - an edit re-embeds only chunks whose text changed; a restart re-embeds nothing;
//! - a model change finds no rows for the new name, so the background worker re-embeds
//!   everything while search keeps working on full text alone, then old rows are purged;
//! - an embedding endpoint that is down delays vectors (retried with back-off) but never an
//!   edit, and search falls back to full text.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use kefu_core::KbEntryId;
use kefu_core::domain::KbEntry;
use kefu_import::ChunkOptions;
use kefu_search::{ChunkDoc, ChunkMeta, Embedder, Filter, VectorHit, VectorIndex};
use kefu_store::{EntryQuery, Store};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::search::{KbSearchError, chunk_docs};

/// Texts sent to the model per call.
const EMBED_BATCH: usize = 32;
/// Longest wait between retries while the embedding model fails.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Progress of the background embedding, for the status API and tests.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct VectorStatus {
    pub model: String,
    pub dimensions: usize,
    /// Chunks with a vector in the search index.
    pub indexed_chunks: usize,
    /// Entries waiting to be embedded.
    pub pending_entries: usize,
    /// Texts embedded by the model since start.
    pub embedded_texts: u64,
    /// The last embedding failure, cleared by the next success.
    pub last_error: Option<String>,
}

/// The knowledge base's vector side. Cheap to share behind an `Arc`.
pub struct KbVectors {
    embedder: Arc<dyn Embedder>,
    store: Store,
    chunking: ChunkOptions,
    index: RwLock<VectorIndex>,
    queue: mpsc::UnboundedSender<KbEntryId>,
    pending: Mutex<std::collections::HashSet<KbEntryId>>,
    embedded: AtomicU64,
    /// Entries the worker has taken off `pending` and not finished (0 or 1).
    in_flight: AtomicU64,
    last_error: Mutex<Option<String>>,
    /// Serialises installs, each of which reads the entry afresh from the store: whichever
    /// install runs last saw the latest committed entry, so the index never ends on an older
    /// state (an entry made internal stays out even if an embedding of its public past
    /// finishes later).
    installing: tokio::sync::Mutex<()>,
}

/// The text a chunk is embedded as: its title and heading path give a short passage its
/// subject ("Refunds > Digital goods: within 14 days…").
fn embedding_text(doc: &ChunkDoc) -> String {
    let mut text = doc.title.trim().to_owned();
    if !doc.heading_path.is_empty() {
        text.push('\n');
        text.push_str(&doc.heading_path);
    }
    text.push('\n');
    text.push_str(doc.text.trim());
    text
}

fn text_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl KbVectors {
    /// Loads the stored vectors of `embedder`'s model for every entry, starts the background
    /// worker, and queues every entry that lacks vectors (all of them after a model change).
    /// Must be called inside a tokio runtime.
    pub async fn start(
        store: Store,
        embedder: Arc<dyn Embedder>,
        chunking: ChunkOptions,
    ) -> Result<Arc<Self>, KbSearchError> {
        let (queue, receiver) = mpsc::unbounded_channel();
        let vectors = Arc::new(Self {
            index: RwLock::new(VectorIndex::new(embedder.model(), embedder.dimensions())),
            embedder,
            store,
            chunking,
            queue,
            pending: Mutex::new(std::collections::HashSet::new()),
            embedded: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            last_error: Mutex::new(None),
            installing: tokio::sync::Mutex::new(()),
        });
        let mut missing = Vec::new();
        let mut query = EntryQuery {
            limit: 500,
            ..EntryQuery::default()
        };
        loop {
            let page = vectors.store.list_kb_entries(&query).await?;
            for entry in &page.items {
                if !vectors.install_entry(entry).await? {
                    missing.push(entry.id);
                }
            }
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
        }
        let backlog = missing.len();
        for id in missing {
            vectors.enqueue(id);
        }
        tracing::info!(
            model = vectors.embedder.model(),
            chunks = vectors.read().len(),
            backlog,
            "vector index loaded"
        );
        tokio::spawn(Arc::clone(&vectors).work(receiver, backlog == 0));
        Ok(vectors)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, VectorIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The embedding model's name.
    pub fn model(&self) -> &str {
        self.embedder.model()
    }

    /// Where the background embedding stands.
    pub fn status(&self) -> VectorStatus {
        VectorStatus {
            model: self.embedder.model().to_owned(),
            dimensions: self.embedder.dimensions(),
            indexed_chunks: self.read().len(),
            pending_entries: self.waiting(),
            embedded_texts: self.embedded.load(Ordering::Relaxed),
            last_error: self.last_error.lock().ok().and_then(|e| e.clone()),
        }
    }

    /// After an entry changed: installs its chunks' vectors at once when every text is
    /// already embedded (with the entry's current visibility and status), else drops its old
    /// vectors — so nothing stale or newly internal is ever found by vectors — and queues it
    /// for the worker.
    pub async fn entry_changed(&self, id: KbEntryId) -> Result<(), KbSearchError> {
        if !self.install(id).await? {
            self.enqueue(id);
        }
        Ok(())
    }

    /// Entries queued or being embedded.
    fn waiting(&self) -> usize {
        let queued = self.pending.lock().map(|p| p.len()).unwrap_or_default();
        queued + usize::try_from(self.in_flight.load(Ordering::SeqCst)).unwrap_or(0)
    }

    fn enqueue(&self, id: KbEntryId) {
        let fresh = self
            .pending
            .lock()
            .map(|mut p| p.insert(id))
            .unwrap_or(true);
        if fresh {
            // The receiver lives as long as the worker, which lives as long as `self`.
            let _ = self.queue.send(id);
        }
    }

    /// Reads entry `id` as it is now and installs its vectors; a deleted entry is removed.
    /// Returns whether every vector was there (false: the entry needs embedding).
    async fn install(&self, id: KbEntryId) -> Result<bool, KbSearchError> {
        let _serial = self.installing.lock().await;
        match self.store.get_kb_entry(id).await {
            Ok(entry) => self.install_entry(&entry).await,
            Err(kefu_store::StoreError::NotFound(_)) => {
                self.index
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove_entry(&id.to_string());
                Ok(true)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Puts `entry`'s vectors into the index if all are stored; returns whether it could.
    /// Without all of them the entry's old rows are removed, never left behind.
    async fn install_entry(&self, entry: &KbEntry) -> Result<bool, KbSearchError> {
        let docs = chunk_docs(entry, &self.chunking);
        let hashes: Vec<String> = docs.iter().map(|d| text_hash(&embedding_text(d))).collect();
        let stored = self
            .store
            .get_chunk_vectors(self.embedder.model(), &hashes)
            .await?;
        let entry_key = entry.id.to_string();
        let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
        if hashes.iter().any(|h| !stored.contains_key(h)) {
            index.remove_entry(&entry_key);
            return Ok(false);
        }
        let rows: Vec<(ChunkMeta, Vec<f32>)> = docs
            .into_iter()
            .zip(&hashes)
            .map(|(doc, hash)| (doc.meta, stored[hash].clone()))
            .collect();
        let model = index.model().to_owned();
        if let Err(e) = index.upsert_entry(&model, &entry_key, rows) {
            // A stored vector the index refuses (wrong length after a dimensions change):
            // the entry gets re-embedded rather than served from bad rows.
            tracing::warn!(entry = %entry.id, error = %e, "stored vectors refused; re-embedding");
            index.remove_entry(&entry_key);
            return Ok(false);
        }
        Ok(true)
    }

    /// The background worker: embeds queued entries' missing texts, stores them, installs
    /// them; retries failures with back-off. After the start-up backlog is done, rows of
    /// other models are deleted.
    async fn work(self: Arc<Self>, mut receiver: mpsc::UnboundedReceiver<KbEntryId>, purged: bool) {
        let mut purged = purged;
        let mut backoff = Duration::from_secs(1);
        while let Some(id) = receiver.recv().await {
            // Off the pending set before reading the entry: a change from now on queues it
            // again instead of being lost behind this run.
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut p) = self.pending.lock() {
                p.remove(&id);
            }
            let outcome = self.embed_entry(id).await;
            if outcome.is_err() {
                // Queued again (below) before it stops counting as in flight, so a status
                // read in between never shows the entry as done.
                self.enqueue(id);
            }
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            match outcome {
                Ok(()) => {
                    backoff = Duration::from_secs(1);
                    if let Ok(mut e) = self.last_error.lock() {
                        *e = None;
                    }
                }
                Err(e) => {
                    tracing::warn!(entry = %id, error = %e, retry_in = ?backoff, "embedding failed");
                    if let Ok(mut last) = self.last_error.lock() {
                        *last = Some(e.to_string());
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
            if !purged && receiver.is_empty() {
                purged = true;
                match self
                    .store
                    .delete_chunk_vectors_except(self.embedder.model())
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(rows = n, "deleted vectors of earlier models"),
                    Err(e) => tracing::warn!(error = %e, "could not delete old vectors"),
                }
            }
        }
    }

    async fn embed_entry(&self, id: KbEntryId) -> Result<(), KbSearchError> {
        // The entry as it is now: it may have changed again since it was queued.
        let entry = match self.store.get_kb_entry(id).await {
            Ok(entry) => entry,
            Err(kefu_store::StoreError::NotFound(_)) => return self.install(id).await.map(drop),
            Err(e) => return Err(e.into()),
        };
        let texts: Vec<String> = chunk_docs(&entry, &self.chunking)
            .iter()
            .map(embedding_text)
            .collect();
        let hashes: Vec<String> = texts.iter().map(|t| text_hash(t)).collect();
        let stored = self
            .store
            .get_chunk_vectors(self.embedder.model(), &hashes)
            .await?;
        let mut missing: HashMap<&str, &String> = HashMap::new();
        for (text, hash) in texts.iter().zip(&hashes) {
            if !stored.contains_key(hash) {
                missing.insert(hash, text);
            }
        }
        let missing: Vec<(&str, &String)> = missing.into_iter().collect();
        for batch in missing.chunks(EMBED_BATCH) {
            let inputs: Vec<String> = batch.iter().map(|(_, t)| (*t).clone()).collect();
            let vectors = self.embedder.embed(&inputs).await?;
            let rows: Vec<(String, Vec<f32>)> = batch
                .iter()
                .map(|(h, _)| (*h).to_owned())
                .zip(vectors)
                .collect();
            self.store
                .put_chunk_vectors(self.embedder.model(), &rows)
                .await?;
            self.embedded
                .fetch_add(rows.len() as u64, Ordering::Relaxed);
        }
        // Installed from a fresh read; if the entry changed meanwhile, the change queued it
        // again and that run embeds the new text.
        self.install(id).await?;
        Ok(())
    }

    /// The `k` chunks closest in meaning to `text` among those `filter` admits.
    pub async fn search(
        &self,
        text: &str,
        filter: &Filter,
        k: usize,
    ) -> Result<Vec<VectorHit>, KbSearchError> {
        let query = vec![text.to_owned()];
        let mut vectors = self.embedder.embed(&query).await?;
        let Some(vector) = vectors.pop() else {
            return Ok(Vec::new());
        };
        let index = self.read();
        Ok(index.search(index.model(), &vector, filter, k)?)
    }

    /// Resolves once nothing is waiting to be embedded (tests, `kefu kb reindex`). Gives up
    /// after `limit`, returning whether the queue drained.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.waiting() == 0 {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_hex_of_the_text() {
        let a = text_hash("退款政策\n七天无理由");
        assert_eq!(a.len(), 64);
        assert_eq!(a, text_hash("退款政策\n七天无理由"));
        assert_ne!(a, text_hash("退款政策\n七天无理由 "));
    }
}

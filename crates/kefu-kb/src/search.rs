//! Full-text search over the knowledge base: entries are cut into chunks (kefu-import's
//! structure-aware chunker; an FAQ is one chunk of its question, phrasings and answer) and
//! indexed in one tantivy index (kefu-search) on every revision. The index is derived data:
//! when it is missing, corrupt or stale at start-up it is rebuilt from the database, and a
//! hit's text is re-cut from the exact revision it names, so what is shown is what was indexed.
//!
//! With an embedding model configured ([`KbSearch::set_vectors`], see [`crate::vectors`]) a
//! search also asks the vector index and fuses both rankings by reciprocal rank fusion; when
//! the model fails, search answers from full text alone.

use std::path::Path;
use std::sync::Arc;

use kefu_core::domain::{EntryStatus, KbEntry, Visibility};
use kefu_core::{KbEntryId, SiteId};
use kefu_import::{ChunkOptions, chunk};
use kefu_search::{
    ChunkDoc, ChunkIndex, ChunkMeta, Filter, FusionWeights, Hit, Lexicon, SearchQuery, VectorHit,
    fuse,
};
use kefu_store::{EntryQuery, Store};
use serde::Serialize;

use crate::faq_index::Audience;
use crate::lexicon::SiteAnalyzers;
use crate::rerank::KbReranker;
use crate::vectors::KbVectors;

/// Why a search or an index update failed.
#[derive(Debug, thiserror::Error)]
pub enum KbSearchError {
    #[error(transparent)]
    Search(#[from] kefu_search::SearchError),
    #[error(transparent)]
    Store(#[from] kefu_store::StoreError),
    #[error(transparent)]
    Embed(#[from] kefu_search::EmbedError),
    #[error("index task was interrupted: {0}")]
    Join(String),
}

/// One ranked chunk, ready to show in a retrieval test or cite.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SearchResult {
    pub entry_id: KbEntryId,
    pub revision: i64,
    pub title: String,
    pub category: String,
    pub heading_path: Vec<String>,
    /// The chunk's text as indexed.
    pub text: String,
    /// Rank score: BM25 from full text alone, the fused reciprocal-rank score with vectors.
    pub score: f32,
    /// BM25 score when full text found the chunk.
    pub text_score: Option<f32>,
    /// Cosine similarity to the question when vectors found the chunk.
    pub vector_score: Option<f32>,
    /// Query terms (after segmentation, stemming and synonyms) found in this chunk.
    pub matched_terms: Vec<String>,
    /// The rerank endpoint's relevance, when one is configured and answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rerank_score: Option<f32>,
    /// The entry's source when it is a web address (what a citation links to).
    pub link: Option<String>,
}

/// The knowledge base's full-text index.
pub struct KbSearch {
    index: Arc<ChunkIndex>,
    chunking: ChunkOptions,
    vectors: Option<Arc<KbVectors>>,
    fusion: FusionWeights,
    /// Per-site query analysers (site synonyms over the index's dictionary).
    analyzers: SiteAnalyzers,
    reranker: Option<KbReranker>,
}

fn visibility(v: Visibility) -> kefu_search::Visibility {
    match v {
        Visibility::Public => kefu_search::Visibility::Public,
        Visibility::Internal => kefu_search::Visibility::Internal,
    }
}

fn status(s: EntryStatus) -> kefu_search::Status {
    match s {
        EntryStatus::Published => kefu_search::Status::Published,
        EntryStatus::Draft => kefu_search::Status::Draft,
        EntryStatus::Archived => kefu_search::Status::Archived,
    }
}

/// The text an FAQ is indexed as: its question, phrasings and answer together.
fn faq_text(entry: &KbEntry) -> Option<String> {
    let faq = entry.content.faq.as_ref()?;
    let mut text = faq.question.clone();
    for alternative in &faq.alternatives {
        text.push('\n');
        text.push_str(alternative);
    }
    text.push('\n');
    text.push_str(&faq.answer);
    Some(text)
}

/// (heading path, text) of every chunk of an entry at its current revision, in order. The
/// same function cuts for indexing and for showing hits, so chunk numbers stay aligned.
pub fn entry_chunks(entry: &KbEntry, opts: &ChunkOptions) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    if let Some(text) = faq_text(entry) {
        out.push((Vec::new(), text));
    }
    if !entry.content.body.trim().is_empty() {
        out.extend(
            chunk(&entry.content.body, opts)
                .into_iter()
                .map(|c| (c.heading_path, c.text)),
        );
    }
    out
}

pub(crate) fn chunk_docs(entry: &KbEntry, opts: &ChunkOptions) -> Vec<ChunkDoc> {
    entry_chunks(entry, opts)
        .into_iter()
        .enumerate()
        .map(|(i, (heading_path, text))| ChunkDoc {
            meta: ChunkMeta {
                chunk_id: format!("{}:{}", entry.id, i),
                entry_id: entry.id.to_string(),
                revision: u64::try_from(entry.revision).unwrap_or_default(),
                site_id: entry.site_id.to_string(),
                category: entry.content.category.clone(),
                language: entry.content.language.clone().unwrap_or_default(),
                visibility: visibility(entry.content.visibility),
                status: status(entry.content.status),
            },
            title: entry.content.title.clone(),
            heading_path: heading_path.join(" > "),
            text,
        })
        .collect()
}

impl KbSearch {
    /// Opens (or creates) the index in `dir`; rebuilds it from `store` when it is missing,
    /// corrupt or stale. Returns the index and how many chunks a rebuild wrote, if one ran.
    pub async fn open(
        store: &Store,
        dir: &Path,
        chunking: ChunkOptions,
    ) -> Result<(Self, Option<u64>), KbSearchError> {
        let dir = dir.to_owned();
        // Opened with every site's custom words, so a changed word list is seen as stale.
        let words = crate::lexicon::pooled_words(store).await?;
        let index = tokio::task::spawn_blocking(move || ChunkIndex::open_or_create(&dir, &words))
            .await
            .map_err(|e| KbSearchError::Join(e.to_string()))??;
        let search = Self {
            index: Arc::new(index),
            chunking,
            vectors: None,
            fusion: FusionWeights::default(),
            analyzers: SiteAnalyzers::default(),
            reranker: None,
        };
        let rebuilt = if search.index.is_stale() {
            Some(search.rebuild(store).await?)
        } else {
            None
        };
        Ok((search, rebuilt))
    }

    /// An in-memory index (tests, evaluation).
    pub fn in_ram(chunking: ChunkOptions) -> Result<Self, KbSearchError> {
        Ok(Self {
            index: Arc::new(ChunkIndex::in_ram(&Lexicon::new())?),
            chunking,
            vectors: None,
            fusion: FusionWeights::default(),
            analyzers: SiteAnalyzers::default(),
            reranker: None,
        })
    }

    /// Reranks the best hits of every search with `reranker` (see [`crate::rerank`]).
    pub fn set_reranker(&mut self, reranker: KbReranker) {
        self.reranker = Some(reranker);
    }

    pub(crate) fn site_analyzers(&self) -> &SiteAnalyzers {
        &self.analyzers
    }

    pub(crate) fn chunk_index(&self) -> &ChunkIndex {
        &self.index
    }

    /// Adds vector search (hybrid from then on) with the given fusion weights.
    pub fn set_vectors(&mut self, vectors: Arc<KbVectors>, fusion: FusionWeights) {
        self.vectors = Some(vectors);
        self.fusion = fusion;
    }

    /// The vector side, when an embedding model is configured.
    pub fn vectors(&self) -> Option<&Arc<KbVectors>> {
        self.vectors.as_ref()
    }

    /// The chunking every index and embedding of this knowledge base uses.
    pub fn chunking(&self) -> &ChunkOptions {
        &self.chunking
    }

    /// Re-indexes every entry of every site from the database.
    pub async fn rebuild(&self, store: &Store) -> Result<u64, KbSearchError> {
        let mut docs = Vec::new();
        let mut query = EntryQuery {
            limit: 1000,
            ..EntryQuery::default()
        };
        loop {
            let page = store.list_kb_entries(&query).await?;
            for entry in &page.items {
                docs.extend(chunk_docs(entry, &self.chunking));
            }
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
        }
        let index = self.index.clone();
        let written = tokio::task::spawn_blocking(move || index.rebuild(docs))
            .await
            .map_err(|e| KbSearchError::Join(e.to_string()))??;
        Ok(written)
    }

    /// Replaces an entry's chunks with those of its current revision.
    pub async fn index_entry(&self, entry: &KbEntry) -> Result<(), KbSearchError> {
        let docs = chunk_docs(entry, &self.chunking);
        let id = entry.id.to_string();
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.upsert_entry(&id, &docs))
            .await
            .map_err(|e| KbSearchError::Join(e.to_string()))??;
        if let Some(vectors) = &self.vectors {
            vectors.entry_changed(entry.id).await?;
        }
        Ok(())
    }

    /// Re-indexes many entries in one commit (bulk imports).
    pub async fn index_entries(&self, entries: &[KbEntry]) -> Result<(), KbSearchError> {
        if entries.is_empty() {
            return Ok(());
        }
        let batch: Vec<(String, Vec<ChunkDoc>)> = entries
            .iter()
            .map(|e| (e.id.to_string(), chunk_docs(e, &self.chunking)))
            .collect();
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.upsert_entries(&batch))
            .await
            .map_err(|e| KbSearchError::Join(e.to_string()))??;
        if let Some(vectors) = &self.vectors {
            for entry in entries {
                vectors.entry_changed(entry.id).await?;
            }
        }
        Ok(())
    }

    /// Ranked chunks of a site for `audience` (visitors: published, public only — enforced
    /// inside the index query).
    pub async fn search(
        &self,
        store: &Store,
        site: SiteId,
        text: &str,
        audience: Audience,
        limit: usize,
    ) -> Result<Vec<SearchResult>, KbSearchError> {
        let site_key = site.to_string();
        let filter = match audience {
            Audience::Visitor => Filter::visitor(&site_key),
            Audience::Agent => Filter::agent(&site_key),
        };
        // With a reranker, the best `top_n` fused hits are scored before `limit` are kept.
        let wanted = self.reranker.as_ref().map_or(limit, |r| limit.max(r.top_n));
        // Each side fetches more than asked, so fusion can lift a chunk one side ranked low.
        let depth = wanted.saturating_mul(2).max(10);
        let query = SearchQuery::new(text, filter.clone()).with_limit(depth);
        let index = self.index.clone();
        let analyzer = self.analyzers.get(store, site, &index.analyzer()).await?;
        let text_hits: Vec<Hit> =
            tokio::task::spawn_blocking(move || index.search_with(&query, &analyzer))
                .await
                .map_err(|e| KbSearchError::Join(e.to_string()))??;
        let vector_hits: Vec<VectorHit> = match &self.vectors {
            Some(vectors) => match vectors.search(text, &filter, depth).await {
                Ok(hits) => hits,
                Err(e) => {
                    tracing::warn!(error = %e, "vector search failed; answering from full text");
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        let hits = if vector_hits.is_empty() {
            text_hits
                .into_iter()
                .take(wanted)
                .map(|h| kefu_search::FusedHit {
                    chunk_id: h.chunk_id,
                    entry_id: h.entry_id,
                    revision: h.revision,
                    score: h.score,
                    text_rank: None,
                    text_score: Some(h.score),
                    vector_rank: None,
                    vector_score: None,
                    matched_terms: h.matched_terms,
                })
                .collect()
        } else {
            fuse(&text_hits, &vector_hits, &self.fusion, wanted)
        };
        let mut results = Vec::with_capacity(hits.len());
        for hit in hits {
            let Ok(entry_id) = hit.entry_id.parse::<KbEntryId>() else {
                continue;
            };
            let revision = i64::try_from(hit.revision).unwrap_or_default();
            let chunk_no: usize = hit
                .chunk_id
                .rsplit(':')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let Ok(rev) = store.get_kb_revision(entry_id, revision).await else {
                continue;
            };
            // Defence in depth: both indexes filter already, but a visitor-facing result is
            // checked once more against the very revision it would show.
            if audience == Audience::Visitor
                && (rev.content.visibility != Visibility::Public
                    || rev.content.status != EntryStatus::Published)
            {
                continue;
            }
            let entry = KbEntry {
                id: entry_id,
                site_id: site,
                revision,
                content: rev.content,
                hit_count: 0,
                thumbs_up: 0,
                thumbs_down: 0,
                created_at: rev.created_at,
                updated_at: rev.created_at,
                updated_by: rev.author_id,
            };
            let Some((heading_path, text)) = entry_chunks(&entry, &self.chunking)
                .into_iter()
                .nth(chunk_no)
            else {
                continue;
            };
            let link = entry
                .content
                .source
                .clone()
                .filter(|s| s.starts_with("https://") || s.starts_with("http://"));
            results.push(SearchResult {
                entry_id,
                revision,
                link,
                title: entry.content.title,
                category: entry.content.category,
                heading_path,
                text,
                score: hit.score,
                text_score: hit.text_score,
                vector_score: hit.vector_score,
                matched_terms: hit.matched_terms,
                rerank_score: None,
            });
        }
        if let Some(reranker) = &self.reranker {
            crate::rerank::apply(reranker, text, &mut results).await;
        }
        results.truncate(limit);
        Ok(results)
    }
}

//! The full-text index of knowledge-base chunks (tantivy), kept in a directory or in RAM.
//!
//! The database is the source of truth; this index is a rebuildable cache of it. So opening
//! never fails on a missing, half-written, corrupt or outdated index: it starts empty and
//! reports [`IndexState`] so the caller re-feeds every chunk through [`ChunkIndex::rebuild`].
//! A marker file written only after a complete rebuild records the schema version and the
//! custom dictionary words the index was built with, so a crash mid-rebuild or a dictionary
//! change is detected on the next open.
//!
//! All calls are blocking (tantivy is synchronous); async callers should use
//! `spawn_blocking`. Writes are serialised through one writer; searches run concurrently.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, RwLock};

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument,
    Term,
};

use crate::chunk::ChunkDoc;
use crate::error::SearchError;
use crate::filter::Filter;
use crate::text_analysis::{AnalyzedQuery, Analyzer, Lexicon};

/// Bumped whenever the schema or the analysis chain changes meaning; an index written with
/// another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 1;

/// Written after a complete (re)build; its absence means the index content is not trusted.
const MARKER_FILE: &str = "kefu-index.json";
/// Tantivy's own metadata file: its presence means the folder holds a tantivy index.
const TANTIVY_META: &str = "meta.json";
const TOKENIZER: &str = "kefu_text";
/// One indexing thread: the target machines have two cores shared with the server.
const WRITER_THREADS: usize = 1;
const WRITER_MEMORY_BYTES: usize = 50_000_000;

/// Relative weights of the text fields: a query word in the title says more than in the body.
const TITLE_BOOST: f32 = 2.0;
const HEADING_BOOST: f32 = 1.5;
const TEXT_BOOST: f32 = 1.0;

/// What was found when the index was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexState {
    /// Complete, same schema and dictionary: usable as is.
    Ready,
    /// No index there (first start, or the folder was deleted).
    Missing,
    /// An index without a completion marker: a rebuild was interrupted.
    Incomplete,
    /// The index or its marker could not be read.
    Corrupt(String),
    /// Written by another schema version.
    SchemaChanged {
        /// Version in the marker.
        found: u32,
        /// Version of this code.
        expected: u32,
    },
    /// Built with other custom dictionary words, so its segmentation differs from queries'.
    DictionaryChanged,
}

impl IndexState {
    /// Whether the caller must rebuild the index from the database before trusting results.
    pub fn needs_rebuild(&self) -> bool {
        *self != IndexState::Ready
    }
}

/// A full-text search request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// What the user typed (any language; no query syntax is interpreted).
    pub text: String,
    /// Which chunks may be returned; enforced inside the search.
    pub filter: Filter,
    /// Maximum number of hits.
    pub limit: usize,
}

impl SearchQuery {
    /// A query with the given filter and a limit of 10.
    pub fn new(text: impl Into<String>, filter: Filter) -> Self {
        SearchQuery {
            text: text.into(),
            filter,
            limit: 10,
        }
    }

    /// Sets the limit (builder style).
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
}

/// One full-text search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The matching chunk.
    pub chunk_id: String,
    /// Its entry.
    pub entry_id: String,
    /// The entry revision the chunk came from.
    pub revision: u64,
    /// BM25 relevance (comparable only within one result list).
    pub score: f32,
    /// Analysed query terms (including synonym terms) that occur in the chunk, in query order.
    pub matched_terms: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    chunk_id: Field,
    entry_id: Field,
    revision: Field,
    site_id: Field,
    category: Field,
    language: Field,
    visibility: Field,
    status: Field,
    title: Field,
    heading_path: Field,
    text: Field,
}

impl Fields {
    fn searched(&self) -> [(Field, f32); 3] {
        [
            (self.title, TITLE_BOOST),
            (self.heading_path, HEADING_BOOST),
            (self.text, TEXT_BOOST),
        ]
    }
}

fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    // Frequencies but no positions: ranking needs term frequency, nothing does phrase search,
    // and positions would roughly double the index size.
    let analysed = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        chunk_id: builder.add_text_field("chunk_id", STRING | STORED),
        entry_id: builder.add_text_field("entry_id", STRING | STORED),
        revision: builder.add_u64_field("revision", STORED),
        site_id: builder.add_text_field("site_id", STRING),
        category: builder.add_text_field("category", STRING),
        language: builder.add_text_field("language", STRING),
        visibility: builder.add_text_field("visibility", STRING),
        status: builder.add_text_field("status", STRING),
        title: builder.add_text_field("title", analysed.clone()),
        heading_path: builder.add_text_field("heading_path", analysed.clone()),
        text: builder.add_text_field("text", analysed),
    };
    (builder.build(), fields)
}

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    schema_version: u32,
    dictionary: Vec<String>,
}

/// The chunk index: one tantivy index with one analyser (one lexicon).
///
/// Use one index per site when sites have different dictionaries; a shared index works too
/// (every search is filtered by site) when the sites share a lexicon. Open each directory
/// once per process: the index holds tantivy's writer lock for its lifetime.
pub struct ChunkIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// Replaced as a whole when the custom words change ([`ChunkIndex::set_lexicon`]).
    analyzer: RwLock<Analyzer>,
    dir: Option<PathBuf>,
    state: Mutex<IndexState>,
}

impl std::fmt::Debug for ChunkIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkIndex")
            .field("dir", &self.dir)
            .field("analyzer", &self.analyzer)
            .finish_non_exhaustive()
    }
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SearchError {
    let path = path.to_path_buf();
    move |source| SearchError::Io {
        action,
        path,
        source,
    }
}

impl ChunkIndex {
    /// Says what state the index in `dir` is in for `lexicon`, without opening it for writing.
    ///
    /// [`IndexState::Ready`] here can still turn into [`IndexState::Corrupt`] when tantivy
    /// fails to open the segments; [`ChunkIndex::open_or_create`] checks that too.
    pub fn inspect(dir: &Path, lexicon: &Lexicon) -> IndexState {
        let marker_path = dir.join(MARKER_FILE);
        let has_tantivy = dir.join(TANTIVY_META).exists();
        let marker_bytes = match std::fs::read(&marker_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return if has_tantivy {
                    IndexState::Incomplete
                } else {
                    IndexState::Missing
                };
            }
            Err(e) => return IndexState::Corrupt(format!("reading marker: {e}")),
        };
        if !has_tantivy {
            return IndexState::Corrupt("marker present but index metadata missing".into());
        }
        let marker: Marker = match serde_json::from_slice(&marker_bytes) {
            Ok(marker) => marker,
            Err(e) => return IndexState::Corrupt(format!("unreadable marker: {e}")),
        };
        if marker.schema_version != SCHEMA_VERSION {
            return IndexState::SchemaChanged {
                found: marker.schema_version,
                expected: SCHEMA_VERSION,
            };
        }
        if marker.dictionary != lexicon.dictionary_fingerprint() {
            return IndexState::DictionaryChanged;
        }
        IndexState::Ready
    }

    /// Opens the index in `dir`, or creates an empty one there when it is missing, incomplete,
    /// corrupt or outdated. Check [`ChunkIndex::state`] afterwards and [`rebuild`] when
    /// [`IndexState::needs_rebuild`] says so.
    ///
    /// Refuses ([`SearchError::ForeignDirectory`]) to wipe a non-empty folder that holds
    /// neither a tantivy index nor our marker, so a misconfigured path cannot destroy data.
    ///
    /// [`rebuild`]: ChunkIndex::rebuild
    pub fn open_or_create(dir: impl AsRef<Path>, lexicon: &Lexicon) -> Result<Self, SearchError> {
        let dir = dir.as_ref();
        let mut state = Self::inspect(dir, lexicon);
        if state == IndexState::Ready {
            match Self::open_existing(dir, lexicon) {
                Ok(index) => return Ok(index),
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "search index unreadable; recreating it empty");
                    state = IndexState::Corrupt(e.to_string());
                }
            }
        } else {
            tracing::info!(dir = %dir.display(), ?state, "search index needs a rebuild; recreating it empty");
        }
        wipe_index_dir(dir)?;
        std::fs::create_dir_all(dir).map_err(io_error("creating", dir))?;
        let (schema, fields) = build_schema();
        let index = Index::create_in_dir(dir, schema)?;
        Self::assemble(index, fields, lexicon, Some(dir.to_path_buf()), state)
    }

    /// Creates an empty index in memory (tests, or small deployments that rebuild at start).
    pub fn in_ram(lexicon: &Lexicon) -> Result<Self, SearchError> {
        let (schema, fields) = build_schema();
        let index = Index::create_in_ram(schema);
        Self::assemble(index, fields, lexicon, None, IndexState::Missing)
    }

    fn open_existing(dir: &Path, lexicon: &Lexicon) -> Result<Self, SearchError> {
        let index = Index::open_in_dir(dir)?;
        let (expected, fields) = build_schema();
        // The marker says the version matches; this guards against a hand-edited marker.
        let found = index.schema();
        for (field, entry) in expected.fields() {
            let same = found
                .get_field(entry.name())
                .ok()
                .is_some_and(|f| f == field && found.get_field_entry(f) == entry);
            if !same {
                return Err(SearchError::InvalidInput(format!(
                    "index schema differs at field {:?}",
                    entry.name()
                )));
            }
        }
        Self::assemble(
            index,
            fields,
            lexicon,
            Some(dir.to_path_buf()),
            IndexState::Ready,
        )
    }

    fn assemble(
        index: Index,
        fields: Fields,
        lexicon: &Lexicon,
        dir: Option<PathBuf>,
        state: IndexState,
    ) -> Result<Self, SearchError> {
        let analyzer = Analyzer::new(lexicon);
        index
            .tokenizers()
            .register(TOKENIZER, analyzer.text_analyzer());
        let writer = index.writer_with_num_threads(WRITER_THREADS, WRITER_MEMORY_BYTES)?;
        // Manual reload after each commit gives read-your-writes without a background thread.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(ChunkIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            analyzer: RwLock::new(analyzer),
            dir,
            state: Mutex::new(state),
        })
    }

    /// What was found at open time, or [`IndexState::Ready`] after a successful rebuild.
    pub fn state(&self) -> IndexState {
        match self.state.lock() {
            Ok(state) => state.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Shorthand for `self.state().needs_rebuild()`.
    pub fn is_stale(&self) -> bool {
        self.state().needs_rebuild()
    }

    /// The analyser (segmenter + lexicon) this index uses, e.g. to show how a query is split.
    /// Cheap: the dictionary is shared.
    pub fn analyzer(&self) -> Analyzer {
        match self.analyzer.read() {
            Ok(a) => a.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Switches to another lexicon. Documents written from now on are segmented with its
    /// words; those already indexed keep the old segmentation, so when the custom words
    /// differ the index reports [`IndexState::DictionaryChanged`] until [`rebuild`] has run
    /// (a crash before that rebuilds at the next open, as the marker still names the old
    /// words). Returns whether the custom words changed.
    ///
    /// [`rebuild`]: ChunkIndex::rebuild
    pub fn set_lexicon(&self, lexicon: &Lexicon) -> bool {
        let current = self.analyzer();
        let words_changed =
            current.lexicon().dictionary_fingerprint() != lexicon.dictionary_fingerprint();
        let next = if words_changed {
            Analyzer::new(lexicon)
        } else {
            current.with_synonyms(&lexicon.synonyms)
        };
        // Tantivy looks tokenizers up by name when it starts a segment, so registering under
        // the same name switches indexing over for every later write.
        self.index
            .tokenizers()
            .register(TOKENIZER, next.text_analyzer());
        match self.analyzer.write() {
            Ok(mut a) => *a = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
        if words_changed {
            match self.state.lock() {
                Ok(mut state) => *state = IndexState::DictionaryChanged,
                Err(poisoned) => *poisoned.into_inner() = IndexState::DictionaryChanged,
            }
        }
        words_changed
    }

    /// Number of chunks in the index.
    pub fn doc_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn lock_writer(&self) -> Result<MutexGuard<'_, IndexWriter>, SearchError> {
        self.writer.lock().map_err(|_| SearchError::Poisoned)
    }

    fn to_document(&self, chunk: &ChunkDoc) -> TantivyDocument {
        let f = &self.fields;
        let m = &chunk.meta;
        let mut doc = TantivyDocument::new();
        doc.add_text(f.chunk_id, &m.chunk_id);
        doc.add_text(f.entry_id, &m.entry_id);
        doc.add_u64(f.revision, m.revision);
        doc.add_text(f.site_id, &m.site_id);
        doc.add_text(f.category, &m.category);
        doc.add_text(f.language, &m.language);
        doc.add_text(f.visibility, m.visibility.as_str());
        doc.add_text(f.status, m.status.as_str());
        doc.add_text(f.title, &chunk.title);
        doc.add_text(f.heading_path, &chunk.heading_path);
        doc.add_text(f.text, &chunk.text);
        doc
    }

    /// Runs `ops` against the writer and commits; on any error the pending operations are
    /// rolled back so a half-applied change is never committed by a later call.
    fn commit_with<F>(&self, ops: F) -> Result<(), SearchError>
    where
        F: FnOnce(&IndexWriter) -> Result<(), SearchError>,
    {
        let mut writer = self.lock_writer()?;
        let outcome = ops(&writer).and_then(|()| writer.commit().map(drop).map_err(Into::into));
        if let Err(e) = outcome {
            if let Err(rollback) = writer.rollback() {
                tracing::error!(error = %rollback, "search index rollback failed");
            }
            return Err(e);
        }
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Replaces all chunks of `entry_id` with `chunks` in one commit: searches see either the
    /// old chunks or the new ones, never a mix or none. An empty `chunks` deletes the entry.
    pub fn upsert_entry(&self, entry_id: &str, chunks: &[ChunkDoc]) -> Result<(), SearchError> {
        if let Some(other) = chunks.iter().find(|c| c.meta.entry_id != entry_id) {
            return Err(SearchError::InvalidInput(format!(
                "chunk {} belongs to entry {}, not {entry_id}",
                other.meta.chunk_id, other.meta.entry_id
            )));
        }
        let docs: Vec<TantivyDocument> = chunks.iter().map(|c| self.to_document(c)).collect();
        let entry_term = Term::from_field_text(self.fields.entry_id, entry_id);
        self.commit_with(|writer| {
            writer.delete_term(entry_term);
            for doc in docs {
                writer.add_document(doc)?;
            }
            Ok(())
        })
    }

    /// Replaces the chunks of many entries in one commit (bulk imports: one commit instead
    /// of one per entry). `entries` pairs each entry id with its complete new chunk list.
    pub fn upsert_entries(&self, entries: &[(String, Vec<ChunkDoc>)]) -> Result<(), SearchError> {
        let mut batch = Vec::with_capacity(entries.len());
        for (entry_id, chunks) in entries {
            if let Some(other) = chunks.iter().find(|c| &c.meta.entry_id != entry_id) {
                return Err(SearchError::InvalidInput(format!(
                    "chunk {} belongs to entry {}, not {entry_id}",
                    other.meta.chunk_id, other.meta.entry_id
                )));
            }
            let docs: Vec<TantivyDocument> = chunks.iter().map(|c| self.to_document(c)).collect();
            batch.push((Term::from_field_text(self.fields.entry_id, entry_id), docs));
        }
        self.commit_with(|writer| {
            for (term, docs) in batch {
                writer.delete_term(term);
                for doc in docs {
                    writer.add_document(doc)?;
                }
            }
            Ok(())
        })
    }

    /// Removes every chunk of `entry_id`.
    pub fn delete_entry(&self, entry_id: &str) -> Result<(), SearchError> {
        self.upsert_entry(entry_id, &[])
    }

    /// Replaces the whole content with `chunks` (from the database) and marks the index
    /// complete. Returns the number of chunks indexed.
    pub fn rebuild<I>(&self, chunks: I) -> Result<u64, SearchError>
    where
        I: IntoIterator<Item = ChunkDoc>,
    {
        // Drop the marker first: if we crash halfway, the next open sees an incomplete index.
        if let Some(dir) = &self.dir {
            let marker = dir.join(MARKER_FILE);
            match std::fs::remove_file(&marker) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("removing", &marker)(e)),
            }
        }
        let mut count = 0u64;
        self.commit_with(|writer| {
            writer.delete_all_documents()?;
            for chunk in chunks {
                writer.add_document(self.to_document(&chunk))?;
                count += 1;
            }
            Ok(())
        })?;
        if let Some(dir) = &self.dir {
            self.write_marker(dir)?;
        }
        match self.state.lock() {
            Ok(mut state) => *state = IndexState::Ready,
            Err(poisoned) => *poisoned.into_inner() = IndexState::Ready,
        }
        Ok(count)
    }

    fn write_marker(&self, dir: &Path) -> Result<(), SearchError> {
        let marker = Marker {
            schema_version: SCHEMA_VERSION,
            dictionary: self.analyzer().lexicon().dictionary_fingerprint(),
        };
        let bytes = serde_json::to_vec_pretty(&marker)
            .map_err(|e| SearchError::InvalidInput(format!("serialising marker: {e}")))?;
        let tmp = dir.join(format!("{MARKER_FILE}.tmp"));
        let path = dir.join(MARKER_FILE);
        std::fs::write(&tmp, bytes).map_err(io_error("writing", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(io_error("renaming", &path))?;
        Ok(())
    }

    /// Full-text search restricted by the query's filter.
    ///
    /// The text is analysed like the indexed text, expanded with the lexicon's synonyms, and
    /// matched as "any term" (ranked by BM25, title and headings boosted). An empty or
    /// punctuation-only text, a zero limit, or an empty visibility/status set return nothing.
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>, SearchError> {
        self.search_with(query, &self.analyzer())
    }

    /// [`ChunkIndex::search`] with the query analysed by `analyzer`: this index's analyser
    /// with one site's synonyms ([`Analyzer::with_synonyms`]). An analyser built before the
    /// index's words changed is rebuilt on the current dictionary (keeping its synonyms), so
    /// query terms always agree with what is indexed.
    pub fn search_with(
        &self,
        query: &SearchQuery,
        analyzer: &Analyzer,
    ) -> Result<Vec<Hit>, SearchError> {
        let current = self.analyzer();
        let refreshed;
        let analyzer = if analyzer.same_dictionary(&current) {
            analyzer
        } else {
            refreshed = current.with_synonyms(&analyzer.lexicon().synonyms);
            &refreshed
        };
        let analysed = analyzer.analyze_query(&query.text);
        let filter = &query.filter;
        if query.limit == 0
            || analysed.is_empty()
            || filter.visibilities.is_empty()
            || filter.statuses.is_empty()
        {
            return Ok(Vec::new());
        }
        let full_query = BooleanQuery::new(vec![
            (Occur::Must, self.text_query(&analysed)),
            (
                Occur::Must,
                Box::new(ConstScoreQuery::new(self.filter_query(filter), 0.0)),
            ),
        ]);
        let searcher = self.reader.searcher();
        // The collector sizes its heap by the limit: never more than there are documents.
        let limit = usize::try_from(searcher.num_docs())
            .unwrap_or(usize::MAX)
            .min(query.limit);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let top = searcher.search(&full_query, &TopDocs::with_limit(limit).order_by_score())?;
        let all_terms = analysed.all_terms();
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field: Field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            hits.push(Hit {
                chunk_id: text(self.fields.chunk_id),
                entry_id: text(self.fields.entry_id),
                revision: doc
                    .get_first(self.fields.revision)
                    .and_then(|v| v.as_u64())
                    .unwrap_or_default(),
                score,
                matched_terms: self.matched_terms(&searcher, address, &all_terms)?,
            });
        }
        Ok(hits)
    }

    /// One clause per query term or synonym alternative, any of which may match.
    fn text_query(&self, analysed: &AnalyzedQuery) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = analysed
            .terms
            .iter()
            .map(|term| (Occur::Should, self.term_in_any_field(term)))
            .collect();
        for alternative in &analysed.alternatives {
            // A multi-word synonym ("money back") matches only when all its words occur.
            let all_words: Vec<(Occur, Box<dyn Query>)> = alternative
                .iter()
                .map(|term| (Occur::Must, self.term_in_any_field(term)))
                .collect();
            clauses.push((Occur::Should, Box::new(BooleanQuery::new(all_words))));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    fn term_in_any_field(&self, term: &str) -> Box<dyn Query> {
        let per_field = self
            .fields
            .searched()
            .into_iter()
            .map(|(field, boost)| {
                let query = TermQuery::new(
                    Term::from_field_text(field, term),
                    IndexRecordOption::WithFreqs,
                );
                let boxed: Box<dyn Query> = Box::new(BoostQuery::new(Box::new(query), boost));
                (Occur::Should, boxed)
            })
            .collect();
        Box::new(BooleanQuery::new(per_field))
    }

    fn filter_query(&self, filter: &Filter) -> Box<dyn Query> {
        let exact = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ))
        };
        let any_of = |field: Field, values: Vec<&str>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                values
                    .into_iter()
                    .map(|v| (Occur::Should, exact(field, v)))
                    .collect(),
            ))
        };
        let f = &self.fields;
        let mut must = vec![
            (Occur::Must, exact(f.site_id, &filter.site_id)),
            (
                Occur::Must,
                any_of(
                    f.visibility,
                    filter.visibilities.iter().map(|v| v.as_str()).collect(),
                ),
            ),
            (
                Occur::Must,
                any_of(
                    f.status,
                    filter.statuses.iter().map(|s| s.as_str()).collect(),
                ),
            ),
        ];
        if !filter.categories.is_empty() {
            must.push((
                Occur::Must,
                any_of(
                    f.category,
                    filter.categories.iter().map(String::as_str).collect(),
                ),
            ));
        }
        if let Some(language) = &filter.language {
            must.push((Occur::Must, exact(f.language, language)));
        }
        Box::new(BooleanQuery::new(must))
    }

    /// The query terms that the hit's indexed text contains, read from the postings of the
    /// hit's segment, so they agree exactly with what matched (Chinese included).
    fn matched_terms(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        terms: &[String],
    ) -> Result<Vec<String>, SearchError> {
        let segment = searcher.segment_reader(address.segment_ord);
        let mut inverted = Vec::new();
        for (field, _) in self.fields.searched() {
            inverted.push((field, segment.inverted_index(field)?));
        }
        let mut matched = Vec::new();
        'terms: for term in terms {
            for (field, index) in &inverted {
                let key = Term::from_field_text(*field, term);
                let Some(mut postings) = index
                    .read_postings(&key, IndexRecordOption::Basic)
                    .map_err(|e| SearchError::Tantivy(e.into()))?
                else {
                    continue;
                };
                // seek() requires a target at or after the current doc.
                if postings.doc() > address.doc_id {
                    continue;
                }
                if postings.seek(address.doc_id) == address.doc_id {
                    matched.push(term.clone());
                    continue 'terms;
                }
            }
        }
        Ok(matched)
    }

    /// The directory the index lives in (`None` in RAM).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The underlying tantivy index, for diagnostics.
    pub fn tantivy_index(&self) -> &Index {
        &self.index
    }
}

/// Deletes a previous index in `dir` so a fresh one can be created, but only when the folder is
/// empty or clearly ours.
fn wipe_index_dir(dir: &Path) -> Result<(), SearchError> {
    let mut entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("listing", dir)(e)),
    };
    let is_empty = entries.next().is_none();
    if is_empty {
        return Ok(());
    }
    let ours = dir.join(TANTIVY_META).exists() || dir.join(MARKER_FILE).exists();
    if !ours {
        return Err(SearchError::ForeignDirectory(dir.to_path_buf()));
    }
    std::fs::remove_dir_all(dir).map_err(io_error("removing", dir))
}

//! Exact nearest-neighbour search over chunk embeddings of one embedding model.
//!
//! Brute force on purpose: a knowledge base of a few hundred thousand chunks scans in tens of
//! milliseconds (see the ignored timing test), results are exact (no recall knobs to tune or
//! explain), filters are applied during the scan so they can never be bypassed, and there is
//! no graph to rebuild. Vectors are L2-normalised on insert, so cosine similarity is a dot
//! product over one contiguous `Vec<f32>` matrix.
//!
//! Each [`VectorIndex`] belongs to one model name; vectors of another model are rejected and a
//! query must say which model produced it, so a model change can never mix spaces: the caller
//! builds a new index for the new model and drops the old one when re-embedding is done.
//!
//! Persistence: [`VectorIndex::save`]/[`VectorIndex::load`] write a single file (a small
//! header, JSON metadata, then little-endian f32 rows) meant as a start-up cache; the database
//! remains the source of truth and can refill an index through [`VectorIndex::upsert_entry`],
//! while [`VectorIndex::iter`] lets a caller persist vectors its own way.

use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use crate::chunk::ChunkMeta;
use crate::error::SearchError;
use crate::filter::Filter;

const MAGIC: &[u8; 8] = b"KEFUVEC\0";
const FORMAT_VERSION: u32 = 1;

/// One vector search result.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorHit {
    /// The matching chunk.
    pub chunk_id: String,
    /// Its entry.
    pub entry_id: String,
    /// The entry revision the chunk came from.
    pub revision: u64,
    /// Cosine similarity in [-1, 1].
    pub score: f32,
}

/// Embeddings of one model with their chunk metadata.
#[derive(Debug, Clone)]
pub struct VectorIndex {
    model: String,
    dimensions: usize,
    /// Row-major matrix: row `i` is `data[i*dimensions..(i+1)*dimensions]`, unit length.
    data: Vec<f32>,
    meta: Vec<ChunkMeta>,
    /// Rows of each entry, for replacing an entry's chunks without a scan.
    rows_by_entry: HashMap<String, Vec<usize>>,
}

/// Scales `v` to unit length; `None` when that is impossible.
fn normalised(v: &[f32]) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if !norm.is_finite() || norm == 0.0 || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    Some(v.iter().map(|x| x / norm).collect())
}

/// Dot product with independent accumulators, which lets the compiler vectorise the loop.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks_a = a.chunks_exact(8);
    let chunks_b = b.chunks_exact(8);
    let tail: f32 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (ca, cb) in chunks_a.zip(chunks_b) {
        for i in 0..8 {
            acc[i] += ca[i] * cb[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

impl VectorIndex {
    /// An empty index for `model` producing `dimensions`-long vectors.
    pub fn new(model: impl Into<String>, dimensions: usize) -> Self {
        VectorIndex {
            model: model.into(),
            dimensions,
            data: Vec::new(),
            meta: Vec::new(),
            rows_by_entry: HashMap::new(),
        }
    }

    /// The embedding model these vectors come from.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Vector length.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// True when there are no vectors.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// A file name for this model's vectors inside a data folder (model names contain `/`).
    pub fn file_name_for(model: &str) -> String {
        let safe: String = model
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("vectors-{safe}.bin")
    }

    fn check_model(&self, model: &str) -> Result<(), SearchError> {
        if model == self.model {
            Ok(())
        } else {
            Err(SearchError::ModelMismatch {
                expected: model.to_string(),
                found: self.model.clone(),
            })
        }
    }

    /// Replaces all vectors of `entry_id` with `chunks` (metadata and embedding by `model`).
    /// Validates everything before changing anything, so a bad vector leaves the entry as it
    /// was. An empty `chunks` removes the entry.
    pub fn upsert_entry(
        &mut self,
        model: &str,
        entry_id: &str,
        chunks: Vec<(ChunkMeta, Vec<f32>)>,
    ) -> Result<(), SearchError> {
        self.check_model(model)?;
        let mut rows = Vec::with_capacity(chunks.len());
        for (meta, vector) in chunks {
            if meta.entry_id != entry_id {
                return Err(SearchError::InvalidInput(format!(
                    "chunk {} belongs to entry {}, not {entry_id}",
                    meta.chunk_id, meta.entry_id
                )));
            }
            if vector.len() != self.dimensions {
                return Err(SearchError::Dimensions {
                    expected: self.dimensions,
                    got: vector.len(),
                });
            }
            let unit = normalised(&vector).ok_or_else(|| SearchError::BadVector {
                chunk_id: meta.chunk_id.clone(),
            })?;
            rows.push((meta, unit));
        }
        self.remove_entry(entry_id);
        for (meta, unit) in rows {
            let row = self.meta.len();
            self.data.extend_from_slice(&unit);
            self.rows_by_entry
                .entry(meta.entry_id.clone())
                .or_default()
                .push(row);
            self.meta.push(meta);
        }
        Ok(())
    }

    /// Removes every vector of `entry_id` (no model check: removal is always safe).
    pub fn remove_entry(&mut self, entry_id: &str) {
        let Some(mut rows) = self.rows_by_entry.remove(entry_id) else {
            return;
        };
        // Highest first, so a swap never moves a row we still have to delete.
        rows.sort_unstable_by(|a, b| b.cmp(a));
        for row in rows {
            self.swap_remove_row(row);
        }
    }

    /// Removes `row` by moving the last row into its place (O(dimensions), not O(n)).
    fn swap_remove_row(&mut self, row: usize) {
        let last = self.meta.len() - 1;
        let d = self.dimensions;
        if row != last {
            self.data.copy_within(last * d..(last + 1) * d, row * d);
            let moved_entry = &self.meta[last].entry_id;
            if let Some(rows) = self.rows_by_entry.get_mut(moved_entry) {
                for r in rows.iter_mut() {
                    if *r == last {
                        *r = row;
                    }
                }
            }
        }
        self.data.truncate(last * d);
        self.meta.swap_remove(row);
    }

    /// The `k` stored vectors most similar to `query` (an embedding by `model`) among those
    /// passing `filter`, best first. Ties are broken by chunk id for stable output.
    pub fn search(
        &self,
        model: &str,
        query: &[f32],
        filter: &Filter,
        k: usize,
    ) -> Result<Vec<VectorHit>, SearchError> {
        self.check_model(model)?;
        if query.len() != self.dimensions {
            return Err(SearchError::Dimensions {
                expected: self.dimensions,
                got: query.len(),
            });
        }
        let query = normalised(query).ok_or_else(|| SearchError::BadVector {
            chunk_id: String::new(),
        })?;
        if k == 0 || self.dimensions == 0 {
            return Ok(Vec::new());
        }
        let mut scored: Vec<(f32, usize)> = self
            .data
            .chunks_exact(self.dimensions)
            .zip(&self.meta)
            .enumerate()
            .filter(|(_, (_, meta))| filter.matches(meta))
            .map(|(row, (vector, _))| (dot(&query, vector), row))
            .collect();
        let better = |a: &(f32, usize), b: &(f32, usize)| {
            b.0.total_cmp(&a.0)
                .then_with(|| self.meta[a.1].chunk_id.cmp(&self.meta[b.1].chunk_id))
        };
        if scored.len() > k {
            scored.select_nth_unstable_by(k - 1, better);
            scored.truncate(k);
        }
        scored.sort_unstable_by(better);
        Ok(scored
            .into_iter()
            .map(|(score, row)| {
                let meta = &self.meta[row];
                VectorHit {
                    chunk_id: meta.chunk_id.clone(),
                    entry_id: meta.entry_id.clone(),
                    revision: meta.revision,
                    score,
                }
            })
            .collect())
    }

    /// Every stored vector (unit length) with its metadata, in storage order.
    pub fn iter(&self) -> impl Iterator<Item = (&ChunkMeta, &[f32])> {
        self.meta
            .iter()
            .zip(self.data.chunks_exact(self.dimensions.max(1)))
    }

    /// Writes the index to `path` atomically (temporary file, then rename).
    ///
    /// Layout: magic `KEFUVEC\0`, u32 format version, u32 dimensions, u64 row count,
    /// u32 length + UTF-8 model name, u64 length + JSON array of chunk metadata, then
    /// rows × dimensions little-endian f32. All integers little-endian.
    pub fn save(&self, path: &Path) -> Result<(), SearchError> {
        let tmp = path.with_extension("tmp");
        let io = |action: &'static str, p: &Path| {
            let p = p.to_path_buf();
            move |source| SearchError::Io {
                action,
                path: p,
                source,
            }
        };
        let file = std::fs::File::create(&tmp).map_err(io("creating", &tmp))?;
        let mut out = BufWriter::new(file);
        let meta_json = serde_json::to_vec(&self.meta)
            .map_err(|e| SearchError::InvalidInput(format!("serialising metadata: {e}")))?;
        let mut write = |bytes: &[u8]| out.write_all(bytes);
        let header = (|| {
            write(MAGIC)?;
            write(&FORMAT_VERSION.to_le_bytes())?;
            write(&(self.dimensions as u32).to_le_bytes())?;
            write(&(self.meta.len() as u64).to_le_bytes())?;
            write(&(self.model.len() as u32).to_le_bytes())?;
            write(self.model.as_bytes())?;
            write(&(meta_json.len() as u64).to_le_bytes())?;
            write(&meta_json)?;
            for x in &self.data {
                write(&x.to_le_bytes())?;
            }
            Ok(())
        })();
        header.map_err(io("writing", &tmp))?;
        let file = out
            .into_inner()
            .map_err(|e| io("writing", &tmp)(e.into_error()))?;
        file.sync_all().map_err(io("syncing", &tmp))?;
        std::fs::rename(&tmp, path).map_err(io("renaming", path))?;
        Ok(())
    }

    /// Reads an index saved by [`save`](VectorIndex::save), refusing one written for another
    /// model ([`SearchError::ModelMismatch`]): the caller then re-embeds instead of mixing.
    pub fn load(path: &Path, model: &str) -> Result<Self, SearchError> {
        let file = std::fs::File::open(path).map_err(|source| SearchError::Io {
            action: "opening",
            path: path.to_path_buf(),
            source,
        })?;
        let mut input = BufReader::new(file);
        let corrupt = |reason: String| SearchError::CorruptVectorFile {
            path: path.to_path_buf(),
            reason,
        };
        let mut read_exact = |len: usize| -> Result<Vec<u8>, SearchError> {
            let mut buf = vec![0u8; len];
            input
                .read_exact(&mut buf)
                .map_err(|e| corrupt(format!("truncated ({e})")))?;
            Ok(buf)
        };
        let u32_at = |b: Vec<u8>| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let u64_at =
            |b: Vec<u8>| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);

        if read_exact(MAGIC.len())? != MAGIC {
            return Err(corrupt("not a Kefu vector file".into()));
        }
        let version = u32_at(read_exact(4)?);
        if version != FORMAT_VERSION {
            return Err(corrupt(format!("unsupported format version {version}")));
        }
        let dimensions = u32_at(read_exact(4)?) as usize;
        let rows = usize::try_from(u64_at(read_exact(8)?))
            .map_err(|_| corrupt("row count too large".into()))?;
        let model_len = u32_at(read_exact(4)?) as usize;
        if model_len > 4096 {
            return Err(corrupt("model name too long".into()));
        }
        let found_model = String::from_utf8(read_exact(model_len)?)
            .map_err(|_| corrupt("model name is not UTF-8".into()))?;
        if found_model != model {
            return Err(SearchError::ModelMismatch {
                expected: model.to_string(),
                found: found_model,
            });
        }
        let meta_len = usize::try_from(u64_at(read_exact(8)?))
            .map_err(|_| corrupt("metadata too large".into()))?;
        let file_len =
            std::fs::metadata(path)
                .map(|m| m.len())
                .map_err(|source| SearchError::Io {
                    action: "reading",
                    path: path.to_path_buf(),
                    source,
                })?;
        // Check sizes against the file before allocating, so a corrupt header cannot make us
        // allocate gigabytes.
        let matrix_bytes = rows
            .checked_mul(dimensions)
            .and_then(|n| n.checked_mul(4))
            .ok_or_else(|| corrupt("matrix size overflows".into()))?;
        if (meta_len as u64).saturating_add(matrix_bytes as u64) > file_len {
            return Err(corrupt("sizes in header exceed the file".into()));
        }
        let meta: Vec<ChunkMeta> = serde_json::from_slice(&read_exact(meta_len)?)
            .map_err(|e| corrupt(format!("metadata: {e}")))?;
        if meta.len() != rows {
            return Err(corrupt(format!(
                "{} metadata records for {rows} rows",
                meta.len()
            )));
        }
        let data: Vec<f32> = read_exact(matrix_bytes)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let mut rows_by_entry: HashMap<String, Vec<usize>> = HashMap::new();
        for (row, m) in meta.iter().enumerate() {
            rows_by_entry
                .entry(m.entry_id.clone())
                .or_default()
                .push(row);
        }
        Ok(VectorIndex {
            model: found_model,
            dimensions,
            data,
            meta,
            rows_by_entry,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive_for_odd_lengths() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.25).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-3);
    }

    #[test]
    fn zero_and_nan_vectors_cannot_be_normalised() {
        assert!(normalised(&[0.0, 0.0]).is_none());
        assert!(normalised(&[f32::NAN, 1.0]).is_none());
        let unit = normalised(&[3.0, 4.0]).unwrap_or_default();
        assert!((unit[0] - 0.6).abs() < 1e-6 && (unit[1] - 0.8).abs() < 1e-6);
    }

    #[test]
    fn file_name_is_safe_for_model_paths() {
        assert_eq!(
            VectorIndex::file_name_for("BAAI/bge-small-zh:v1.5"),
            "vectors-BAAI_bge-small-zh_v1.5.bin"
        );
    }
}

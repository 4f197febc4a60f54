//! Builders for test chunks and a small deterministic random generator (no extra crates).

use kefu_search::{ChunkDoc, ChunkMeta, Status, Visibility};

/// A published, public chunk of `site` whose id is `{entry}-{n}`.
pub fn chunk(site: &str, entry: &str, n: u32, title: &str, text: &str) -> ChunkDoc {
    ChunkDoc {
        meta: meta(site, entry, n),
        title: title.into(),
        heading_path: String::new(),
        text: text.into(),
    }
}

pub fn meta(site: &str, entry: &str, n: u32) -> ChunkMeta {
    ChunkMeta {
        chunk_id: format!("{entry}-{n}"),
        entry_id: entry.into(),
        revision: 1,
        site_id: site.into(),
        category: "general".into(),
        language: "zh".into(),
        visibility: Visibility::Public,
        status: Status::Published,
    }
}

pub fn with(mut doc: ChunkDoc, visibility: Visibility, status: Status) -> ChunkDoc {
    doc.meta.visibility = visibility;
    doc.meta.status = status;
    doc
}

pub fn ids(hits: &[kefu_search::Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.chunk_id.as_str()).collect()
}

/// xorshift64*: reproducible pseudo-random floats for vector tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        // Top 24 bits → [-1, 1).
        ((x >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    }

    pub fn vector(&mut self, dims: usize) -> Vec<f32> {
        (0..dims).map(|_| self.next_f32()).collect()
    }
}

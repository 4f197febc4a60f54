//! Search benchmark at 100k chunks: builds a deterministic corpus from BANKING77's training
//! questions (each chunk joins four questions; a quarter also carry a Chinese sentence),
//! indexes it, and runs BANKING77's test questions as queries, one at a time, reporting index
//! throughput and query latency p50/p99. Writes the corpus and queries as JSON lines so
//! `bench/search_bm25s.py` can measure a peer on exactly the same data in the same run.
//!
//! `cargo run --release -p kefu-search --example bench_100k -- ../shared/eval/banking77 target/bench`

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use kefu_search::{
    ChunkDoc, ChunkIndex, ChunkMeta, Filter, Lexicon, SearchQuery, Status, Visibility,
};

const CHUNKS: usize = 100_000;
const CHINESE: &[&str] = &[
    "我的银行卡还没有收到",
    "如何修改支付密码",
    "转账一直没有到账怎么办",
    "外币兑换的汇率是多少",
    "花呗怎么还款",
    "账户被冻结了怎么解冻",
    "退款多久能到账",
    "上海交通大学的校园卡如何充值",
];

/// A small deterministic generator (xorshift), so the corpus is identical on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &'a [String]) -> &'a str {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

fn read_column(path: &PathBuf) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| r.get(0).map(str::to_owned))
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "../shared/eval/banking77".into()),
    );
    let out = PathBuf::from(args.next().unwrap_or_else(|| "target/bench".into()));
    std::fs::create_dir_all(&out)?;
    let train = read_column(&data.join("train.csv"));
    let queries = read_column(&data.join("test.csv"));
    if train.is_empty() || queries.is_empty() {
        return Err(format!("no BANKING77 data in {}", data.display()).into());
    }
    let chinese: Vec<String> = CHINESE.iter().map(|s| s.to_string()).collect();
    let mut rng = Rng(0x6b65_6675_2026);
    let mut corpus = std::io::BufWriter::new(std::fs::File::create(out.join("corpus.jsonl"))?);
    let mut docs = Vec::with_capacity(CHUNKS);
    let mut bytes = 0usize;
    for i in 0..CHUNKS {
        let mut text = String::new();
        for _ in 0..4 {
            text.push_str(rng.pick(&train));
            text.push(' ');
        }
        if i % 4 == 0 {
            text.push_str(rng.pick(&chinese));
        }
        bytes += text.len();
        writeln!(corpus, "{}", serde_json::json!({ "id": i, "text": text }))?;
        docs.push(ChunkDoc {
            meta: ChunkMeta {
                chunk_id: format!("c{i}"),
                entry_id: format!("e{}", i / 4),
                revision: 1,
                site_id: "site".into(),
                category: "faq".into(),
                language: "en".into(),
                visibility: Visibility::Public,
                status: Status::Published,
            },
            title: String::new(),
            heading_path: String::new(),
            text,
        });
    }
    corpus.flush()?;
    let mut qfile = std::io::BufWriter::new(std::fs::File::create(out.join("queries.jsonl"))?);
    for q in &queries {
        writeln!(qfile, "{}", serde_json::json!({ "text": q }))?;
    }
    qfile.flush()?;

    let index = ChunkIndex::in_ram(&Lexicon::new())?;
    let started = Instant::now();
    let written = index.rebuild(docs)?;
    let index_secs = started.elapsed().as_secs_f64();

    let mut latencies = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for q in &queries {
        let started = Instant::now();
        let query = SearchQuery::new(q.as_str(), Filter::visitor("site")).with_limit(10);
        let found = index.search(&query)?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        hits += usize::from(!found.is_empty());
    }
    latencies.sort_by(f64::total_cmp);
    let report = serde_json::json!({
        "system": "kefu-search (tantivy + jieba, filters inside the query, matched terms)",
        "chunks": written,
        "corpus_mb": (bytes as f64 / 1e6 * 10.0).round() / 10.0,
        "index_seconds": (index_secs * 100.0).round() / 100.0,
        "chunks_per_second": (written as f64 / index_secs).round(),
        "queries": queries.len(),
        "p50_ms": (percentile(&latencies, 0.5) * 1000.0).round() / 1000.0,
        "p99_ms": (percentile(&latencies, 0.99) * 1000.0).round() / 1000.0,
        "queries_with_hits": hits,
    });
    println!("{report}");
    Ok(())
}

"""Peer for the 100k-chunk search benchmark: Python bm25s on the corpus and queries written by
`cargo run --release -p kefu-search --example bench_100k` (same data, same run). Reports
index time and single-query latency p50/p99 (top 10), as one JSON line.
Needs `pip install bm25s==0.3.16 PyStemmer`.
"""

import json
import sys
import time
from pathlib import Path

import bm25s
import Stemmer


def main():
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench")
    corpus = [json.loads(l)["text"] for l in open(folder / "corpus.jsonl", encoding="utf-8")]
    queries = [json.loads(l)["text"] for l in open(folder / "queries.jsonl", encoding="utf-8")]
    stemmer = Stemmer.Stemmer("english")
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    index_s = time.perf_counter() - started
    latencies = []
    for q in queries:
        started = time.perf_counter()
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        retriever.retrieve(tokens, k=10, show_progress=False)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    pick = lambda p: latencies[round((len(latencies) - 1) * p)]
    print(json.dumps({
        "system": f"bm25s {bm25s.__version__} (PyStemmer, English stop words)",
        "chunks": len(corpus),
        "index_seconds": round(index_s, 2),
        "chunks_per_second": round(len(corpus) / index_s),
        "queries": len(queries),
        "p50_ms": round(pick(0.5), 3),
        "p99_ms": round(pick(0.99), 3),
    }))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Knowledge-base search at 100k chunks: kefu-search and the bm25s peer on the same generated
# corpus (from BANKING77) in one run. Usage: bench/search_100k.sh [path/to/banking77]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/eval/banking77}"
python3 -c "import bm25s, Stemmer" 2>/dev/null || pip install -q bm25s==0.3.16 PyStemmer
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F)"
cargo run --release -q -p kefu-search --example bench_100k -- "$data" target/bench
python3 bench/search_bm25s.py target/bench
echo "import throughput (kefu-import, generated corpus):"
cargo run --release -q -p kefu-import --example import_throughput

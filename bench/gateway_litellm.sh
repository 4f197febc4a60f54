#!/usr/bin/env bash
# Gateway overhead beside LiteLLM's proxy, in one run (BENCHMARKS.md, "LLM provider gateway
# overhead"). Starts the standalone OpenAI-wire mock (crates/kefu-ai/examples/mock_openai.rs),
# starts LiteLLM's proxy (PyPI litellm[proxy], default single worker) forwarding to that mock,
# then runs `cargo bench -p kefu-ai --bench gateway`, which measures, at each connection count:
#   direct  — reqwest calling the mock;
#   gateway — Kefu's Gateway (in-process, as the answer engine calls it) calling the mock;
#   litellm — reqwest calling LiteLLM, which calls the mock;
# latency p50/p99, throughput, and time to the first streamed content delta. "Added" is each
# client's figure minus direct's.
#
#   bench/gateway_litellm.sh                 (KEFU_BENCH_CONNS=1,8,32,64 by default)
#
# Opt-in; LiteLLM is installed into ${KEFU_INTEROP_CACHE:-$HOME/.cache/kefu/interop}
# (bench/interop/common.sh). Output is also saved to $KEFU_INTEROP_CACHE/runs/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=bench/interop/common.sh
source "$here/interop/common.sh"

export KEFU_BENCH_CONNS="${KEFU_BENCH_CONNS:-1,8,32,64}"
run_dir="$KEFU_INTEROP_CACHE/runs/gateway-litellm-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run_dir"
trap stop_started EXIT

venv="$(ensure_litellm)"
say "building the mock and the benchmark (release)"
(cd "$repo" && cargo build --quiet --release -p kefu-ai --example mock_openai &&
  cargo bench --quiet -p kefu-ai --bench gateway --no-run)

# The mock prints "listening <base url>" once it accepts connections.
"$(target_dir)/release/examples/mock_openai" >"$run_dir/mock.out" 2>&1 &
STARTED_PIDS+=("$!")
for _ in $(seq 1 50); do grep -q '^listening ' "$run_dir/mock.out" && break; sleep 0.1; done
upstream="$(awk '/^listening /{print $2; exit}' "$run_dir/mock.out")"
[[ -n "$upstream" ]] || { cat "$run_dir/mock.out" >&2; exit 1; }
say "mock at $upstream"

port="$(free_port)"
# LiteLLM refuses to start without a master key; any key not publicly known will do.
key="sk-bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
cat >"$run_dir/litellm.yaml" <<YAML
# One model routed to the local mock; a master key (required) but no database, cache or
# callbacks: LiteLLM's lightest proxy configuration.
model_list:
  - model_name: bench
    litellm_params:
      model: openai/bench
      api_base: $upstream
      api_key: sk-bench
general_settings:
  master_key: $key
YAML
litellm_env
say "starting LiteLLM $KEFU_LITELLM_VERSION proxy (1 worker) on 127.0.0.1:$port"
"$venv/bin/litellm" --config "$run_dir/litellm.yaml" --host 127.0.0.1 --port "$port" \
  >"$run_dir/litellm.log" 2>&1 &
litellm_pid=$!
STARTED_PIDS+=("$litellm_pid")
wait_http "http://127.0.0.1:$port/health/liveliness" 180 "$litellm_pid" ||
  { tail -20 "$run_dir/litellm.log" >&2; exit 1; }

say "benchmark: connections $KEFU_BENCH_CONNS; output also in $run_dir/bench.txt"
(cd "$repo" && KEFU_BENCH_UPSTREAM="$upstream" KEFU_BENCH_LITELLM="http://127.0.0.1:$port/v1" \
  KEFU_BENCH_LITELLM_MODEL=bench KEFU_BENCH_LITELLM_KEY="$key" cargo bench --quiet -p kefu-ai --bench gateway) |
  tee "$run_dir/bench.txt"

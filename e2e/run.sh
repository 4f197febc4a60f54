#!/usr/bin/env bash
# Widget browser tests: installs what they need (playwright-core from npm, Debian's Chromium),
# builds the kefu binary, runs the tests against it and the size budget, and prints one
# "N passed, N failed" line. Exits non-zero on any failure.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null || { echo "installing chromium failed"; exit 1; }
fi
# A CJK font, so the zh-CN screenshots show characters instead of boxes.
if ! fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk"; then
  apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 || echo "note: no CJK font; zh-CN screenshots will show boxes"
fi
cd "$here"
# playwright-core never downloads a browser; the variable just makes that explicit.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --silent; else npm install --no-audit --no-fund --silent; fi || {
  echo "npm install failed"; exit 1; }

(cd "$root" && cargo build -p kefu --quiet) || { echo "cargo build failed"; exit 1; }
export KEFU_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/kefu"
case "$KEFU_BIN" in /*) ;; *) KEFU_BIN="$root/$KEFU_BIN" ;; esac

out="$(mktemp)"
node --test --test-concurrency=1 --test-reporter=tap tests/ | tee "$out"
tests_rc=${PIPESTATUS[0]}
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out" | tail -1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$out" | tail -1)
rm -f "$out"
passed=${passed:-0}
failed=${failed:-0}
# A runner that died before its summary counts as a failure.
if [ "$tests_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

if node size-budget.mjs; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

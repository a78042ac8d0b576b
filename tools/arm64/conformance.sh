#!/usr/bin/env bash
# Cross-build the C conformance driver for aarch64 and run it under qemu twice:
#   -cpu max        has the dot-product extension: neon and neon_dotprod are both checked;
#   -cpu cortex-a53 has not: neon is checked and neon_dotprod must be skipped (a dotprod instruction
#                   there would be SIGILL, so this also proves the variant selection).
#   tools/arm64/conformance.sh [--long]   (arguments go to the driver; --long takes several minutes)
# Installs nothing: tools/arm64/install_cross.sh provides aarch64-linux-gnu-gcc and qemu-aarch64-static.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bin=$tmp/conformance-aarch64
"$here/../conformance/build.sh" aarch64 "$bin" >/dev/null
status=0
run() {   # run CPU: prints the failures and the summary, sets $out
    local rc=0
    echo "== qemu-aarch64-static -cpu $1"
    out=$(qemu-aarch64-static -cpu "$1" "$bin" "${args[@]}" 2>&1) || rc=$?
    grep -E "^(FAIL|skip)|: (ok|FAILED)$|passed, " <<<"$out" || true
    if [ "$rc" -ne 0 ]; then echo "driver exit status $rc under -cpu $1"; tail -3 <<<"$out"; status=1; fi
}
args=("$@")
run max
grep -q "^neon_dotprod: ok" <<<"$out" || { echo "neon_dotprod was not checked (or failed) under -cpu max"; status=1; }
run cortex-a53
grep -q "^neon: ok" <<<"$out" || { echo "neon failed under cortex-a53"; status=1; }
grep -q "^skip neon_dotprod" <<<"$out" || { echo "neon_dotprod was not skipped without dotprod"; status=1; }
exit $status

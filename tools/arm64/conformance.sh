#!/usr/bin/env bash
# Cross-build the C conformance driver for aarch64 and run it under qemu twice:
#   -cpu max        has the dot-product extension: neon and neon_dotprod are both checked;
#   -cpu cortex-a53 has not: neon is checked and neon_dotprod must be skipped (a dotprod instruction
#                   there would be SIGILL, so this also proves the variant selection).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(mktemp -d)/conformance-aarch64
"$here/../conformance/build.sh" aarch64 "$bin" >/dev/null
echo "== qemu-aarch64 -cpu max"
out_max=$(qemu-aarch64-static -cpu max "$bin")
echo "$out_max" | tail -5
grep -q "^neon_dotprod: ok" <<<"$out_max" || { echo "neon_dotprod was not checked under -cpu max"; exit 1; }
echo "== qemu-aarch64 -cpu cortex-a53"
out_a53=$(qemu-aarch64-static -cpu cortex-a53 "$bin")
echo "$out_a53" | tail -5
grep -q "^neon: ok" <<<"$out_a53" || { echo "neon failed under cortex-a53"; exit 1; }
grep -q "^skip neon_dotprod" <<<"$out_a53" || { echo "neon_dotprod was not skipped without dotprod"; exit 1; }

#!/usr/bin/env bash
# Build the kernel timing harness with the package's kernel flags (setup.py C_FLAGS).
#   tools/kernel_bench/build.sh [OUT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csrc="$here/../../iq1kernels/csrc"
out=${1:-$here/kernel_bench}
mapfile -t sources < <(find "$csrc" -name '*.c' | sort)
mapfile -t includes < <(find "$csrc" -type d -printf '-I%p\n' | sort)
gcc -std=c11 -O3 -g0 -ffp-contract=off -fopenmp -fno-math-errno -fno-ipa-icf -fno-wrapv "${includes[@]}" "${sources[@]}" "$here/kernel_bench.c" \
  -lm -o "$out"
echo "$out"

#!/usr/bin/env bash
# Build the quantizer block-solver profile (quant_profile.c) against every C source of the package, with the
# search counters compiled in (IQ1_SEARCH_COUNTING; the package never has them).
#   tools/quant_profile/build.sh [OUT]     then run OUT [blocks] [rounds] [solver]   (default 20000, 3, all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csrc="$here/../../iq1kernels/csrc"
out=${1:-$here/quant_profile}
gcc -std=gnu11 -O3 -g0 -ffp-contract=off -fno-math-errno -fopenmp -DIQ1_SEARCH_COUNTING -I "$csrc" \
  "$csrc"/*.c "$here/quant_profile.c" -lm -o "$out"
echo "$out"

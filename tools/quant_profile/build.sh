#!/usr/bin/env bash
# Build the quantizer block-solver profile (quant_profile.c) against every C source of the package (all folders of
# csrc), with the search counters compiled in (IQ1_SEARCH_COUNTING; the package never has them).
#   tools/quant_profile/build.sh [OUT]     then run OUT [blocks] [rounds] [solver]   (default 20000, 3, all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csrc="$here/../../iq1kernels/csrc"
out=${1:-$here/quant_profile}
mapfile -t sources < <(find "$csrc" -name '*.c' | sort)
mapfile -t includes < <(find "$csrc" -type d -printf '-I%p\n' | sort)
gcc -std=gnu11 -O3 -g0 -ffp-contract=off -fno-math-errno -fno-ipa-icf -fopenmp -DIQ1_SEARCH_COUNTING "${includes[@]}" \
  "${sources[@]}" "$here/quant_profile.c" -lm -o "$out"
echo "$out"

#!/usr/bin/env bash
# Cross-build what the neon extension module links (every C file but the x86 ones, setup.py's kernel flags)
# into one aarch64 shared object, for fingerprint.py to disassemble on an x86 machine.
#   tools/asm_fingerprint/neon_module.sh OUT.so       (needs tools/arm64/install_cross.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csrc="$here/../../iq1kernels/csrc"
out=${1:?usage: neon_module.sh OUT.so}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mapfile -t sources < <(find "$csrc" -name '*.c' ! -name '*_avx2.c' ! -name '*_avx512.c' | sort)
mapfile -t includes < <(find "$csrc" -type d -printf '-I%p\n' | sort)
for f in "${sources[@]}"; do
  aarch64-linux-gnu-gcc -std=c11 -O3 -g0 -ffp-contract=off -fopenmp -fno-math-errno -fno-ipa-icf -fPIC "${includes[@]}" \
    -c "$f" -o "$work/$(basename "$f" .c).o"
done
aarch64-linux-gnu-gcc -shared "$work"/*.o -o "$out"

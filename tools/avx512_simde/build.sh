#!/usr/bin/env bash
# Build the conformance driver (tools/conformance) with the AVX-512 and AVX-VNNI instructions emulated in
# software by SIMDe (Debian's libsimde-dev: install.sh), so that the avx512, avx512_vnni and avx2_vnni
# backends are checked bit for bit against the portable C on a CPU without them. The AVX-512 sources lose
# their ISA target pragmas and the AVX2 matmul sources their avxvnni attributes, and those go through SIMDe
# (./immintrin.h); every other source is compiled natively, AVX2 code stays native everywhere.
#   tools/avx512_simde/build.sh [OUT] [extra CFLAGS...]    then run OUT [--long] (about 12 s / 40 s)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csrc="$here/../../iq1kernels/csrc"
out=${1:-$here/conformance-avx512-simde}; shift $(( $# > 0 ? 1 : 0 ))
[ -f /usr/include/simde/x86/avx512.h ] || { echo "SIMDe headers missing (tools/avx512_simde/install.sh)" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
find "$csrc" -type f \( -name '*.c' -o -name '*.h' \) -exec cp {} "$work"/ \;   # one folder: names are unique
for f in "$work"/*avx512*; do
  case "$(basename "$f")" in matmul_amx_*) continue ;; esac   # AMX: SIMDe has no tiles; built natively, never run here
  sed -i -e 's/^#pragma GCC target.*$//' -e 's/__attribute__((target("[a-z0-9,]*")))//g' "$f"
done
sed -i 's/__attribute__((target("avxvnni")))//g' "$work"/*avx2*
flags=(-std=gnu11 -O2 -g0 -ffp-contract=off -Wall -Wno-unknown-pragmas -Wno-psabi -I "$work" "$@")

compile() {   # source -> object, with the flags its kind needs
  local f=$1 name; name=$(basename "$f" .c)
  case "$name" in
    matmul_amx_*) gcc "${flags[@]}" -c "$f" -o "$work/$name.o" ;;   # its own target pragma; skipped unless AMX runs
    *avx512*|matmul_avx2) gcc "${flags[@]}" -march=x86-64-v3 "-DIQ1_IN_REGISTER(v)=((void)0)" -I "$here" \
                              -c "$f" -o "$work/$name.o" ;;   # ./immintrin.h: SIMDe
    cpu_features) gcc "${flags[@]}" -Diq1_cpu_supports=iq1_cpu_supports_host \
                    -Diq1_cpu_supports_all=iq1_cpu_supports_all_host -c "$f" -o "$work/$name.o" ;;  # cpu_emulated.c wraps it
    *) gcc "${flags[@]}" -c "$f" -o "$work/$name.o" ;;
  esac
}
jobs_max=$(nproc)
sources=("$work"/*.c "$here/../conformance/conformance.c" "$here/cpu_emulated.c")
for f in "${sources[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
  compile "$f" &
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do wait -n; done
for f in "${sources[@]}"; do [ -f "$work/$(basename "$f" .c).o" ] || { echo "compiling $f failed" >&2; exit 1; }; done
gcc "$@" "$work"/*.o -lm -o "$out"
echo "$out"

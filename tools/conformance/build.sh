#!/usr/bin/env bash
# Build the conformance driver against every C source of the package (all folders of csrc).
#   tools/conformance/build.sh [native|aarch64] [OUT] [extra CFLAGS...]
# native: the host compiler (x86-64 here: generic + avx2 + avx512 kernels);
# aarch64: Debian's aarch64-linux-gnu-gcc, static, to run under qemu-aarch64-static.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csrc="$here/../../iq1kernels/csrc"
target=${1:-native}; out=${2:-$here/conformance-$target}; shift $(( $# > 2 ? 2 : $# )) || true
case "$target" in
  native)  cc=${CC:-gcc}; arch_flags=() ;;
  aarch64) cc=aarch64-linux-gnu-gcc; arch_flags=(-static -march=armv8-a) ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
mapfile -t sources < <(find "$csrc" -name '*.c' | sort)
mapfile -t includes < <(find "$csrc" -type d -printf '-I%p\n' | sort)
"$cc" -std=c11 -O2 -g -ffp-contract=off -Wall -Wextra -Wno-unknown-pragmas "${arch_flags[@]}" "$@" \
  "${includes[@]}" "${sources[@]}" "$here/conformance.c" -lm -o "$out"
echo "$out"

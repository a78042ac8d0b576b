#!/usr/bin/env bash
# tools/sanitize.sh for the emulated build: the conformance driver with SIMDe standing in for AVX-512 and
# AVX-VNNI (build.sh), under AddressSanitizer + UndefinedBehaviorSanitizer, any report fatal. -O1 keeps
# the build of the SIMDe-heavy sources near 2 minutes on 2 cores (-O2: 5).
#   tools/avx512_simde/sanitize.sh [OUT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d)/conformance-simde-asan}
"$here/build.sh" "$out" -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer >/dev/null
ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$out"

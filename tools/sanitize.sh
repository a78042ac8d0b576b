#!/usr/bin/env bash
# Build the C conformance driver (every kernel of every backend this CPU runs, against the portable C)
# with AddressSanitizer + UndefinedBehaviorSanitizer, any report fatal, and run it.
#   tools/sanitize.sh [OUT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d)/conformance-asan}
"$here/conformance/build.sh" native "$out" -fsanitize=address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer >/dev/null
# LeakSanitizer cannot run under ptrace-based emulation (qemu-user): IQ1_DETECT_LEAKS=0 turns only it off
ASAN_OPTIONS=detect_leaks=${IQ1_DETECT_LEAKS:-1}:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$out"

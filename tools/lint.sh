#!/usr/bin/env bash
# The formatter, linter and type checker, as CI runs them (pip install -e ".[lint]" installs them):
#   ruff format --check, ruff check, mypy iq1kernels, and clang-format over the tracked C files when the
#   repository has a .clang-format and clang-format is installed. Exits non-zero on any finding.
# To apply the formatting instead of checking it:  ruff check --select I --fix . && ruff format .
set -u
cd "$(dirname "$0")/.."
status=0
step() {
    echo "== $*"
    "$@" || status=1
}
step ruff format --check .
step ruff check .
step mypy iq1kernels
if [ -f .clang-format ]; then
    if command -v clang-format >/dev/null 2>&1; then
        mapfile -t c_files < <(git ls-files '*.c' '*.h')
        if [ "${#c_files[@]}" -gt 0 ]; then
            step clang-format --dry-run --Werror "${c_files[@]}"
        fi
    else
        echo "== clang-format is not installed: C formatting not checked (apt-get install clang-format)"
    fi
fi
exit $status

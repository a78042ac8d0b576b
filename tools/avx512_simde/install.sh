#!/usr/bin/env bash
# Install SIMDe's headers (Debian's libsimde-dev; a few seconds) for build.sh. Needs root.
set -euo pipefail
if [ -f /usr/include/simde/x86/avx512.h ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends libsimde-dev >/dev/null

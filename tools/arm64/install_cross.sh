#!/usr/bin/env bash
# Install the aarch64 cross compiler and qemu user-mode emulation (Debian packages; ~35 s). Needs root.
set -euo pipefail
if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64-static >/dev/null; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static >/dev/null

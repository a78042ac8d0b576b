#!/usr/bin/env bash
# Run the Python test suite on emulated arm64: a Debian bookworm arm64 root made with debootstrap
# (qemu-user-static + binfmt_misc run its programs), the package pip-installed there from a copy of this
# checkout, then pytest. Needs root and network access to Debian and PyPI; takes tens of minutes.
#   tools/arm64/python_suite.sh [ROOT_DIR [PYTEST ARGS...]]   (default /var/tmp/iq1-arm64-root, all tests)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
root=${1:-/var/tmp/iq1-arm64-root}
shift $(( $# > 0 ? 1 : 0 ))
pytest_args=${*:-}
export DEBIAN_FRONTEND=noninteractive
"$repo/tools/arm64/install_cross.sh"
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  update-binfmts --enable qemu-aarch64 2>/dev/null || \
  echo ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' \
    > /proc/sys/fs/binfmt_misc/register
fi
if [ ! -x "$root/usr/bin/python3" ]; then
  debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,python3-dev,gcc,libc6-dev,ca-certificates \
    bookworm "$root" http://deb.debian.org/debian
fi
rm -rf "$root/src" && mkdir -p "$root/src" && git -C "$repo" archive HEAD | tar -x -C "$root/src"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# the host's CA bundle: networks that intercept TLS put their CA there, and pip inside must trust it too
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
mount --bind /proc "$root/proc" 2>/dev/null || true
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
start=$(date +%s)
chroot "$root" /usr/bin/env PYTEST_ARGS="$pytest_args" /bin/bash -c '
  set -e; cd /src
  python3 -m venv /venv && . /venv/bin/activate
  uname -m; python -c "import platform; print(platform.machine())"
  pip install -q -e ".[test]"
  python -c "import iq1kernels as iq1; iq1.show_config(); print(iq1.available_backends())"
  python -m pytest -q -p no:cacheprovider $PYTEST_ARGS
'
echo "arm64 Python suite: $(( $(date +%s) - start )) s"

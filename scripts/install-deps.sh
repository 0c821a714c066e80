#!/usr/bin/env bash
# install-deps.sh — installs the Debian packages maskjit needs to build and test,
# only those missing.  Run as root on Debian 12 (bookworm); `make demo` and
# `make test` call it.  Also installs the Python test oracles (pyarrow) with pip
# when MJ_PY_ORACLES=1.
set -euo pipefail
pkgs=(build-essential cmake pkg-config flex bison llvm-19-dev clang libclang-rt-14-dev
      libjson-c-dev libpcre2-dev libutf8proc-dev libopenblas-dev libpng-dev zlib1g-dev wordnet-dev wordnet-base
      python3)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -f /usr/local/cuda/include/nvrtc.h ]; then
  echo "install-deps: the CUDA toolkit is expected under /usr/local/cuda (NVRTC headers and libraries)" >&2
  exit 1
fi
if [ "${MJ_PY_ORACLES:-0}" = 1 ]; then
  python3 - <<'PY' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check pyarrow tokenizers
import pyarrow, tokenizers
PY
fi

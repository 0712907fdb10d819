#!/usr/bin/env bash
# Install what kdx needs to build (Debian packages), then build it.
#   scripts/setup.sh [--sanitizers] [BUILDDIR]
# Idempotent: installs only missing packages, reconfigures only when needed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
san=0
if [ "${1:-}" = "--sanitizers" ]; then san=1; shift; fi
build=${1:-$top/build}

need=()
for p in build-essential autoconf automake libtool pkg-config libdw-dev libelf-dev \
         libkdumpfile-dev libreadline-dev zlib1g-dev liblzo2-dev libsnappy-dev libzstd-dev; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "setup: installing ${need[*]}" >&2
	if [ ! -f /tmp/.kdx-apt-updated ]; then apt-get update -qq && touch /tmp/.kdx-apt-updated; fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ] \
   || [ -n "$(find src tests -name Makefile.inc -newer configure 2>/dev/null | head -1)" ]; then
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
mkdir -p "$build"
cd "$build"
want="$top/configure"; [ $san = 1 ] && want="$want --enable-sanitizers"
if [ ! -f Makefile ] || [ "$(cat .kdx-configured 2>/dev/null)" != "$want" ] || [ "$top/configure" -nt Makefile ]; then
	if [ $san = 1 ]; then "$top/configure" --enable-sanitizers -q; else "$top/configure" -q; fi
	echo "$want" > .kdx-configured
fi
make -s -j"$(nproc)" all
make -s -j"$(nproc)" check TESTS= >/dev/null   # build the unit tests, run them later
echo "$build/kdx"

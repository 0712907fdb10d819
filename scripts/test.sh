#!/usr/bin/env bash
# Set up everything and run the whole kdx test suite:
#   install packages, build kdx under ASan+UBSan, generate the fixture dumps
#   (cached), run unit tests, integration tests on every dump, the probe
#   parser fuzzer for a bounded time. Ends with "N passed, N failed".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

kdx=$("$top/scripts/setup.sh" --sanitizers "$top/build-san" | tail -1)
# clang's libFuzzer for the probe parser fuzz target
for p in clang libclang-rt-14-dev; do
	dpkg -s "$p" >/dev/null 2>&1 && continue
	[ -f /tmp/.kdx-apt-updated ] || { apt-get update -qq && touch /tmp/.kdx-apt-updated; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null
done
"$top/tests/fixtures/gen.sh" >&2
export KDX="$kdx" KDX_BUILD="$top/build-san"
export KDX_FUZZ_SECONDS=${KDX_FUZZ_SECONDS:-60}
exec "$top/tests/run-tests.sh"

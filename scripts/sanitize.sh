#!/usr/bin/env bash
# Native code under AddressSanitizer + UndefinedBehaviorSanitizer (g++), built once (cmake-js,
# build-asan/): the C++ kernel tests, a short run of every native fuzz target, the addon under
# the ava suite's native tests, and a LeakSanitizer load / sample / dispose loop over every
# shipped model kind. Any report fails the run.
#   bash scripts/sanitize.sh [fuzz inputs per target, default 3000]
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_runs=${1:-3000}
dir=build-asan

echo "== build: addon, kernel tests and fuzz targets with ASan + UBSan ($dir/)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Quiet when it works, the build's last lines when it does not.
quiet() { "$@" >"$log" 2>&1 || { tail -40 "$log"; exit 1; }; }
# cmake-js configures (it knows where the Node headers are); cmake builds every target.
quiet npx cmake-js configure -O "$dir" --CDDEEPGEN_SANITIZE=ON --CDDEEPGEN_TESTS=ON --CDDEEPGEN_FUZZ=ON
quiet cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)"
bin() { find "$dir" -name "$1" -type f -perm -u+x | head -1; }

echo "== C++ kernel tests"
"$(bin kernel_tests)"

for target in gemm conv nade; do
  echo "== fuzz_$target ($fuzz_runs inputs)"
  "$(bin "fuzz_$target")" -runs="$fuzz_runs" "test/native/fuzz/corpus/$target"
done

# Node itself is not built with ASan: the runtime is preloaded, and the addon is chosen by
# DEEPGEN_ADDON_PATH. Leak detection stays off for the test runner (V8 keeps its heap to
# exit); the loop below turns it on for a process that frees what it loads.
# Only the Node processes get the runtime (other tools of this script would run under it too).
sanitized() {
  DEEPGEN_ADDON_PATH="$PWD/$dir/Release/deepgen.node" \
    LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$@"
}

echo "== ava native tests under ASan + UBSan"
# Parity, argument and model tests; timing tests (event-loop lag) are left to the plain run.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 sanitized npx ava \
  test/native-args.test.ts test/gemm.test.ts test/conv.test.ts test/convblock.test.ts test/activation.test.ts \
  test/norm.test.ts test/lstm.test.ts test/loss.test.ts test/optim.test.ts test/reparam.test.ts \
  test/nade-kernels.test.ts test/rnade-kernels.test.ts test/pixelrnn.test.ts test/philox.test.ts \
  test/models.test.ts test/model-file.test.ts test/fuzz-native-args.test.ts test/prepared-net.test.ts

echo "== LeakSanitizer: load / sample / dispose of every shipped model kind"
report=$(mktemp)
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=exitcode=0 sanitized node --expose-gc --import tsx test/leak/load-sample-dispose.mts 2>"$report" ||
  { cat "$report"; exit 1; }
# Only leaks with a frame in deepgen's addon count (scripts/leaks-in-addon.awk says why).
awk -f scripts/leaks-in-addon.awk "$report" || { echo "LeakSanitizer: leaks in deepgen's native code (above)"; exit 1; }
echo "no leaks in deepgen's native code ($(grep -cE '^(Direct|Indirect) leak' "$report" || true) records of Node and V8 at exit, none with a deepgen frame)"
rm -f "$report"

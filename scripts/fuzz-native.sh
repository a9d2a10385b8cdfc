#!/usr/bin/env bash
# Fuzzes the native kernels' entry points (sgemm, conv2d / conv_transpose2d, NADE) under
# AddressSanitizer + UndefinedBehaviorSanitizer, starting from the seed corpora in
# test/native/fuzz/corpus/<target>/.
#   bash scripts/fuzz-native.sh            short run (CI): 3,000 inputs per target
#   bash scripts/fuzz-native.sh 1000000    long run
# With clang on PATH (and libFuzzer: Debian's libclang-rt-*-dev), the targets link with
# libFuzzer and the run is coverage-guided; otherwise g++ builds them with a standalone driver
# that replays the corpus and runs random inputs and mutations of it.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3000}
if command -v clang++ >/dev/null 2>&1 && echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long){return 0;}' |
  clang++ -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  dir=build-fuzz-libfuzzer
  cmake -S . -B "$dir" -DDEEPGEN_FUZZ=ON -DDEEPGEN_LIBFUZZER=ON -DDEEPGEN_SANITIZE=ON \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release >/dev/null
else
  # The build folder of `test/native/run.sh --asan` (kernel tests and fuzz targets).
  dir=build-native-tests-asan
  cmake -S . -B "$dir" -DDEEPGEN_TESTS=ON -DDEEPGEN_FUZZ=ON -DDEEPGEN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)" --target fuzz_gemm fuzz_conv fuzz_nade >/dev/null
for target in gemm conv nade; do
  echo "== fuzz_$target ($runs inputs)"
  # The corpus is read, not written: new inputs found by libFuzzer go to a scratch folder.
  scratch=$(mktemp -d)
  "./$dir/fuzz_$target" -runs="$runs" -max_len=256 -timeout=10 "$scratch" "test/native/fuzz/corpus/$target" 2>&1 | tail -3
  rm -rf "$scratch"
done

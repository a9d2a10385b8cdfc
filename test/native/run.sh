#!/usr/bin/env bash
# Builds and runs the plain C++ kernel tests with cmake (no Node needed, so it also runs on a
# GPU machine that only has nvcc and cmake).
#   bash test/native/run.sh           CPU kernel tests
#   bash test/native/run.sh --cuda    also build the CUDA kernels and run their tests
#   bash test/native/run.sh --cuda --build-only   compile everything, run only the CPU tests
#   bash test/native/run.sh --cuda --sanitize     run the CUDA tests under compute-sanitizer
#                                                 (memcheck, racecheck) too, when it exists
#   bash test/native/run.sh --asan    CPU kernel tests built with AddressSanitizer and
#                                     UndefinedBehaviorSanitizer (any report fails)
set -euo pipefail
cd "$(dirname "$0")/../.."
cuda=OFF
run_cuda=1
sanitize=0
asan=OFF
for arg in "$@"; do
  case "$arg" in
    --cuda) cuda=ON ;;
    --build-only) run_cuda=0 ;;
    --sanitize) sanitize=1 ;;
    --asan) asan=ON ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done
dir=build-native-tests
[ "$cuda" = ON ] && dir=build-native-tests-cuda
[ "$asan" = ON ] && dir=$dir-asan
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$dir" -DDEEPGEN_TESTS=ON -DDEEPGEN_CUDA="$cuda" -DDEEPGEN_SANITIZE="$asan" -DDEEPGEN_FUZZ="$asan" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$dir" -j "$jobs" >/dev/null
"./$dir/kernel_tests"
if [ "$cuda" = ON ] && [ "$run_cuda" = 1 ]; then
  "./$dir/cuda_tests"
  if [ "$sanitize" = 1 ]; then
    if command -v compute-sanitizer >/dev/null 2>&1; then
      compute-sanitizer --tool memcheck --error-exitcode 1 "./$dir/cuda_tests"
      compute-sanitizer --tool racecheck --error-exitcode 1 "./$dir/cuda_tests"
    else
      echo "compute-sanitizer not found: sanitizer runs skipped" >&2
    fi
  fi
fi

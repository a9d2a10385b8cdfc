// Prints the C++ sources of a native build group, one per line (simd: the *_avx2.cc and
// *_avx512.cc files, compiled with -mavx2 -mfma; the AVX-512 ones raise their own target), for binding.gyp (gyp has no
// globbing): `node native/list-sources.mjs addon` or `... simd`. CMakeLists.txt globs the
// same folders itself. Kept in one place so a new kernel file needs no build-file edit.
import { readdirSync } from "node:fs";

const group = process.argv[2];
const dirs = ["native/common", "native/kernels/cpu", "native/addon"];
const files = [];
for (const dir of dirs) {
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith(".cc")) continue;
    const simd = f.endsWith("_avx2.cc") || f.endsWith("_avx512.cc");
    if ((group === "simd") === simd) files.push(`${dir}/${f}`);
  }
}
if (group !== "simd" && group !== "addon") {
  console.error("usage: node native/list-sources.mjs addon|simd");
  process.exit(2);
}
console.log(files.join("\n"));

{
  # The CPU addon (node-gyp; what `npm ci` builds and what prebuildify ships).
  # CMakeLists.txt builds the same sources with cmake-js, plus the CUDA kernels when asked.
  "target_defaults": {
    "cflags_cc": ["-std=c++17", "-O3", "-fvisibility=hidden"],
    "defines": ["NAPI_VERSION=8"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "xcode_settings": {
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "OTHER_CPLUSPLUSFLAGS": ["-O3"]
    },
    "msvs_settings": {"VCCLCompilerTool": {"ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"]}},
    # Windows builds with clang-cl (Visual Studio's "C++ Clang tools"): the kernels use GCC/clang
    # built-ins and attributes (overflow checks, target("avx512f"), cpuid.h) that MSVC lacks.
    "conditions": [["OS=='win'", {"msbuild_toolset": "ClangCL"}]]
  },
  "targets": [
    {
      # Kernels that need AVX2/FMA code generation. gyp has no per-file flags, so they live in
      # their own library; the rest is compiled for the baseline ISA and picks these at run
      # time (native/common/cpu_features.cc). -fno-trapping-math lets GCC vectorize clamped
      # float->int conversions (fast_math.h); deepgen never relies on FP exception traps.
      # Other targets (arm64: --arch=arm64, scripts/cross-arm64.sh) get none of these flags:
      # there the units are link-only stubs and the dispatch folds to the portable kernels at
      # compile time (native/common/cpu_features.h).
      "target_name": "deepgen_simd",
      "type": "static_library",
      "sources": ["<!@(node native/list-sources.mjs simd)"],
      "cflags_cc": ["-fPIC"],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "cflags_cc": ["-mavx2", "-mfma", "-fno-trapping-math"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-fno-trapping-math"]},
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/std:c++17", "-mavx2", "-mfma", "-fno-trapping-math"]}}
        }]
      ]
    },
    {
      "target_name": "deepgen",
      "dependencies": [
        "deepgen_simd",
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      # Every .cc under native/common, native/kernels/cpu and native/addon except *_avx2.cc.
      "sources": ["<!@(node native/list-sources.mjs addon)"]
    }
  ]
}

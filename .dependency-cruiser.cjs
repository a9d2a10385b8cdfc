/**
 * The layers of lib/, top to bottom: cli -> (serve, onnx: they take whole models) -> models ->
 * nn -> kernels -> core; data and io (files, images) sit just above core and are used from
 * anywhere above them. An import may only point down (or within its own layer).
 */
const layer = (name, mayImport) => ({
  name: `${name}-imports-only-downward`,
  comment: `lib/${name} may import only ${mayImport.join(", ") || "nothing else of deepgen"}`,
  severity: "error",
  from: { path: `^lib/${name}/` },
  to: { path: "^lib/", pathNot: [`^lib/${name}/`, ...mayImport.map((l) => `^lib/${l}/`)] },
});

module.exports = {
  forbidden: [
    layer("core", []),
    layer("kernels", ["core"]),
    layer("data", ["core"]),
    layer("io", ["core"]),
    layer("nn", ["kernels", "core", "data", "io"]),
    layer("models", ["nn", "kernels", "core", "data", "io"]),
    layer("onnx", ["models", "nn", "kernels", "core", "data", "io"]),
    layer("serve", ["onnx", "models", "nn", "kernels", "core", "data", "io"]),
    {
      name: "no-cycles",
      comment: "a cycle makes two files one unit that neither layer owns",
      severity: "error",
      from: { path: "^lib/" },
      to: { circular: true },
    },
    {
      name: "lib-does-not-import-tests-or-benchmarks",
      severity: "error",
      from: { path: "^lib/" },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "lib-does-not-import-the-entry-point",
      comment: "lib/index.ts is the package's public surface; inside lib, import the defining file",
      severity: "error",
      from: { path: "^lib/", pathNot: "^lib/index\\.ts$" },
      to: { path: "^lib/index\\.ts$" },
    },
    {
      name: "no-unresolvable-imports",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "no-dev-dependencies-in-lib",
      comment: "the published package must not need what only tests and benchmarks install",
      severity: "error",
      from: { path: "^lib/" },
      to: { dependencyTypes: ["npm-dev"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    parser: "swc",
  },
};

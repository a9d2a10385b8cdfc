import test from "ava";

import { getKernels, resolveBackendName } from "../lib/kernels/backend.js";
import { runtimeInfo } from "../lib/kernels/runtime-info.js";
import { getThreads, setThreads } from "../lib/kernels/threads.js";
import { code } from "./helpers/errors.js";

function withEnv(value: string | undefined, fn: () => void): void {
  const old = process.env["DEEPGEN_BACKEND"];
  if (value === undefined) delete process.env["DEEPGEN_BACKEND"];
  else process.env["DEEPGEN_BACKEND"] = value;
  try {
    fn();
  } finally {
    if (old === undefined) delete process.env["DEEPGEN_BACKEND"];
    else process.env["DEEPGEN_BACKEND"] = old;
  }
}

test("backend: option wins over DEEPGEN_BACKEND, which wins over the native default", (t) => {
  withEnv(undefined, () => t.is(resolveBackendName(), "native"));
  withEnv("js", () => {
    t.is(resolveBackendName(), "js");
    t.is(resolveBackendName("native"), "native");
    t.is(getKernels().backend, "js");
  });
});

test("unknown backend names are E_ARG, from the option or the environment", (t) => {
  t.is(
    code(t, () => getKernels("tpu")),
    "E_ARG",
  );
  withEnv("gpu", () =>
    t.is(
      code(t, () => getKernels()),
      "E_ARG",
    ),
  );
});

test("thread limit can be read and set, and rejects nonsense", (t) => {
  const before = getThreads();
  t.true(before >= 1);
  setThreads(1);
  t.is(getThreads(), 1);
  setThreads(before);
  t.is(getThreads(), before);
  t.is(
    code(t, () => setThreads(0)),
    "E_ARG",
  );
  t.is(
    code(t, () => setThreads(2.5)),
    "E_ARG",
  );
});

test("an invalid DEEPGEN_THREADS is E_ARG wherever native threads are used, like an invalid DEEPGEN_BACKEND", (t) => {
  const old = process.env["DEEPGEN_THREADS"];
  try {
    for (const bad of ["abc", "0", "1.5", "100000", "-2", "2x", " "]) {
      process.env["DEEPGEN_THREADS"] = bad;
      t.is(
        code(t, () => getKernels("native")),
        "E_ARG",
        bad,
      );
      t.is(
        code(t, () => getThreads()),
        "E_ARG",
        bad,
      );
      t.is(
        code(t, () => runtimeInfo()),
        "E_ARG",
        bad,
      );
      t.regex(t.throws(() => getKernels("native"))!.message, /DEEPGEN_THREADS must be an integer in \[1, 1024\]/);
      t.notThrows(() => getKernels("js"), "the js backend runs no native threads");
    }
    for (const good of ["1", "2", "1024", ""]) {
      process.env["DEEPGEN_THREADS"] = good;
      t.notThrows(() => getKernels("native"), good);
    }
  } finally {
    if (old === undefined) delete process.env["DEEPGEN_THREADS"];
    else process.env["DEEPGEN_THREADS"] = old;
  }
});

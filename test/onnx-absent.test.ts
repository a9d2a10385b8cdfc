/**
 * deepgen without onnxruntime-node (an optional peer dependency): export still works, and
 * every ONNX runner throws E_BACKEND with the install command. "Absent" is played with the
 * loader's env hook (a module name that does not exist) and setOnnxRuntimeLoader, without
 * uninstalling anything. Own file: the env change must not leak into other tests.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { exportOnnx } from "../lib/onnx/export.js";
import { OnnxGenerator } from "../lib/onnx/generator.js";
import { OnnxModel } from "../lib/onnx/model.js";
import { loadOnnxRuntime, onnxRuntimeAvailable, setOnnxRuntimeLoader } from "../lib/onnx/runtime.js";
import { Vae } from "../lib/models/vae.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-onnx-absent-"));
const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));
const ABSENT = "onnxruntime-node-not-installed-here";

test.serial(
  "without onnxruntime-node: export works, OnnxModel / OnnxGenerator throw E_BACKEND naming the install command; installing it again works",
  async (t) => {
    const vae = Vae.create({ dim: 16, latent: 2, hidden: [4] });
    const bytes = exportOnnx(vae); // needs no runtime
    t.true(bytes.length > 0);
    process.env.DEEPGEN_ONNXRUNTIME_MODULE = ABSENT;
    setOnnxRuntimeLoader(null);
    try {
      t.false(await onnxRuntimeAvailable());
      for (const p of [OnnxModel.load(bytes), OnnxGenerator.load(bytes)]) {
        const e = await t.throwsAsync(p);
        t.true(e instanceof DeepgenError);
        t.is((e as DeepgenError).code, "E_BACKEND");
        t.regex(e!.message, /not installed.*npm install onnxruntime-node/);
      }
    } finally {
      delete process.env.DEEPGEN_ONNXRUNTIME_MODULE;
    }
    // A failed load is not cached: the real package loads once the hook is gone.
    t.true(await onnxRuntimeAvailable());
    t.true((await OnnxModel.load(bytes)).inputs.length === 1);
  },
);

test.serial("setOnnxRuntimeLoader: a loader that fails is reported as E_BACKEND by the runners", async (t) => {
  setOnnxRuntimeLoader(() => Promise.reject(new DeepgenError("E_BACKEND", "no runtime in this test")));
  try {
    const e = await t.throwsAsync(loadOnnxRuntime());
    t.is((e as DeepgenError).code, "E_BACKEND");
  } finally {
    setOnnxRuntimeLoader(null);
  }
  t.true(await onnxRuntimeAvailable());
});

test.serial("CLI without onnxruntime-node: export works, sample FILE.onnx exits 1 with E_BACKEND and the install command", async (t) => {
  const vae = Vae.create({ dim: 16, latent: 2, hidden: [4] });
  const model = join(dir, "v.safetensors");
  await vae.save(model);
  const env = { ...process.env, DEEPGEN_ONNXRUNTIME_MODULE: ABSENT };
  const run = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8", env });
  const ex = run("export", model, "--out", join(dir, "v.onnx"));
  t.is(ex.status, 0, ex.stderr);
  const s = run("sample", join(dir, "v.onnx"), "--out", join(dir, "v.png"));
  t.is(s.status, 1);
  t.regex(s.stderr, /E_BACKEND: ONNX models need onnxruntime-node.*npm install onnxruntime-node/);
  const info = run("info", "--json");
  t.is(info.status, 0, info.stderr);
  t.deepEqual(JSON.parse(info.stdout).onnxruntime, { installed: false, version: null });
  const present = spawnSync(process.execPath, ["--import", "tsx", cli, "info", "--json"], { encoding: "utf8" });
  t.regex(JSON.parse(present.stdout).onnxruntime.version, /^\d+\.\d+\.\d+/);
});

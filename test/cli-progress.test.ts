import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

import { ProgressLine } from "../lib/cli/common.js";
import { makeDataset } from "../lib/data/dataset.js";
import { encodeIdxImages } from "../lib/data/idx.js";
import { canonicalSplit } from "../lib/data/mnist.js";

function fakeStream(isTTY: boolean): { isTTY: boolean; written: string[]; write(s: string): boolean } {
  return {
    isTTY,
    written: [],
    write(s: string) {
      this.written.push(s);
      return true;
    },
  };
}

test("without a terminal, progress is a whole line at most every interval (never silent, never a flood)", (t) => {
  let clock = 1000;
  const stream = fakeStream(false);
  const p = new ProgressLine(stream, () => clock, 5000);
  for (; clock < 1000 + 4999; clock += 100) p.update(`at ${clock}`);
  t.deepEqual(stream.written, [], "a phase shorter than one interval prints nothing");
  clock = 6000;
  p.update("five seconds in");
  clock = 6100;
  p.update("too soon");
  clock = 11000;
  p.update("ten seconds in");
  p.done("finished");
  t.deepEqual(stream.written, ["five seconds in\n", "ten seconds in\n", "finished\n"]);
});

test("on a terminal, progress redraws one line at most every 100 ms", (t) => {
  let clock = 1000;
  const stream = fakeStream(true);
  const p = new ProgressLine(stream, () => clock);
  p.update("a");
  clock = 1050;
  p.update("b");
  clock = 1150;
  p.update("c");
  p.done();
  t.deepEqual(stream.written, ["\r\x1b[Ka", "\r\x1b[Kc", "\r\x1b[K"]);
});

test("a training run whose stderr pipe is closed still finishes and writes its model (EPIPE ends progress, not the run)", async (t) => {
  const work = mkdtempSync(join(tmpdir(), "deepgen-epipe-"));
  const idx = join(work, "tiny.idx");
  writeFileSync(idx, encodeIdxImages(makeDataset(canonicalSplit().train.x.slice(0, 60 * 784), undefined, 28, 28)));
  const out = join(work, "nade.safetensors");
  const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", cli, "train", "nade", "--idx-images", idx, "--hidden", "8", "--batch", "20", "--epochs", "4", "--out", out],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  // The reader goes away at once, as `| head -0` would: every later stderr write is EPIPE.
  child.stderr.destroy();
  const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  t.is(status, 0);
  t.true(existsSync(out));
  t.true(existsSync(join(work, "nade.card.json")));
});

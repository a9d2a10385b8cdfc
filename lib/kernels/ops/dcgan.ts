/**
 * A DCGAN trainer whose networks and Adam states live on the GPU
 * (native/kernels/cuda/dcgan_resident.cu): `upload` copies the generator, the discriminator,
 * the generator's batch-norm running statistics and both Adam states once; each `step` then
 * runs one whole Gan.fit step on the device (G(z), D on [real; G(z)], Adam on D, the generator
 * loss through the updated D, Adam on G), uploading only the real batch and z and reading back
 * the step's scalars; `generate` is G in evaluation mode; `download` copies the state back
 * into host arrays (e.g. the TS networks' own parameters, so a model file can be written).
 * `dispose()` frees the device memory now (the garbage collector does it otherwise).
 *
 * Covered: the default discriminator (discNorm false, no discStddev); other configurations
 * are refused with E_BACKEND. Throws E_BACKEND too when the addon was built without CUDA or no
 * device is usable. The arrays are named as the TS networks' params() / buffers() (gen.0.w,
 * ..., disc.2.b; gen.1.running_mean, ...), so `generator.params()` and an Adam's `m` / `v`
 * records pass as they are.
 */
import { checkFloat32Array, checkInteger, checkOneOf } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import type { CudaDcganHandle, CudaDcganStepResult, NativeDcganSpec } from "../addon-types.js";
import { cudaAddon } from "../cuda.js";
import { callNative } from "../native.js";

/** The DCGAN shape: of the CPU networks (lib/nn/dcgan-nets.ts) and of the device trainer; discStddev defaults to false. */
export type DcganSpec = Omit<NativeDcganSpec, "discStddev"> & { discStddev?: boolean };

/** The spec CudaDcganTrainer takes: the networks' own. */
export type CudaDcganSpec = DcganSpec;

/** Adam moments by parameter name and the step counter (an lib/nn/adam.ts Adam fits). */
export interface DcganAdamState {
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
  step: number;
}

export interface DcganTrainerState {
  gen: Record<string, Float32Array>;
  disc: Record<string, Float32Array>;
  /** The generator's batch-norm running statistics (gen.1.running_mean, ...). */
  genBuffers: Record<string, Float32Array>;
  /** Fresh moments (zeros, step 0) when left out. */
  genAdam?: DcganAdamState;
  discAdam?: DcganAdamState;
}

export interface DcganStepOptions {
  genLr: number;
  discLr: number;
  /** Adam beta1 (default 0.5, as Gan.fit), beta2 (0.999), eps (1e-8). */
  beta1?: number;
  beta2?: number;
  eps?: number;
  loss?: "nonsaturating" | "minimax";
  /** false: a discriminator-only step (Gan.fit with discriminatorSteps > 1). Default true. */
  updateGenerator?: boolean;
}

export type DcganStepResult = CudaDcganStepResult;

type Layout = { name: string; size: number }[];

/** The flat layouts of cuda_api.h (dcgan_*_tensors), in order. */
export function dcganTensorLayout(s: CudaDcganSpec): { gen: Layout; disc: Layout; genBuffers: Layout } {
  const [c0, c1] = s.channels;
  const [d0, d1] = s.discChannels;
  const q = (s.height / 4) * (s.width / 4);
  return {
    gen: [
      { name: "gen.0.w", size: c0 * q * s.zdim },
      { name: "gen.0.b", size: c0 * q },
      { name: "gen.1.gamma", size: c0 },
      { name: "gen.1.beta", size: c0 },
      { name: "gen.2.w", size: c0 * c1 * 16 },
      { name: "gen.2.gamma", size: c1 },
      { name: "gen.2.beta", size: c1 },
      { name: "gen.3.w", size: c1 * 16 },
      { name: "gen.3.b", size: 1 },
    ],
    disc: [
      { name: "disc.0.w", size: d0 * 16 },
      { name: "disc.0.b", size: d0 },
      { name: "disc.1.w", size: d1 * d0 * 16 },
      { name: "disc.1.b", size: d1 },
      { name: "disc.2.w", size: d1 * q },
      { name: "disc.2.b", size: 1 },
    ],
    genBuffers: [
      { name: "gen.1.running_mean", size: c0 },
      { name: "gen.1.running_var", size: c0 },
      { name: "gen.2.running_mean", size: c1 },
      { name: "gen.2.running_var", size: c1 },
    ],
  };
}

function checkSpec(s: CudaDcganSpec): void {
  for (const side of [s.height, s.width]) {
    checkInteger("CudaDcganTrainer: image side", side, 4, 4096);
    if (side % 4 !== 0) throw new DeepgenError("E_ARG", `CudaDcganTrainer: image sides must be multiples of 4, got ${s.height}x${s.width}`);
  }
  checkInteger("CudaDcganTrainer: zdim", s.zdim, 1, 4096);
  if (!Array.isArray(s.channels) || s.channels.length !== 2 || !Array.isArray(s.discChannels) || s.discChannels.length !== 2) {
    throw new DeepgenError("E_ARG", "CudaDcganTrainer: channels and discChannels must be two channel counts each");
  }
  for (const c of [...s.channels, ...s.discChannels]) checkInteger("CudaDcganTrainer: channels", c, 1, 4096);
  if (s.discNorm || s.discStddev === true) {
    throw new DeepgenError(
      "E_BACKEND",
      "CudaDcganTrainer covers the default discriminator only (discNorm false, no discStddev); use backend 'native'",
    );
  }
}

/** The named arrays concatenated in layout order (E_FORMAT for a missing name, E_SHAPE for a wrong size). */
function flatten(what: string, layout: Layout, arrays: Record<string, Float32Array>): Float32Array {
  const out = new Float32Array(layout.reduce((n, t) => n + t.size, 0));
  let at = 0;
  for (const t of layout) {
    const a = arrays[t.name];
    if (a === undefined) throw new DeepgenError("E_FORMAT", `CudaDcganTrainer: ${what} lacks ${t.name}`);
    checkFloat32Array(`${what} ${t.name}`, a);
    if (a.length !== t.size)
      throw new DeepgenError("E_SHAPE", `CudaDcganTrainer: ${what} ${t.name} has ${a.length} values, expected ${t.size}`);
    out.set(a, at);
    at += t.size;
  }
  return out;
}

/** Copies a flat array back into the named arrays (checked like flatten). */
function scatter(what: string, layout: Layout, flat: Float32Array, into: Record<string, Float32Array>): void {
  let at = 0;
  for (const t of layout) {
    const a = into[t.name];
    if (a === undefined) throw new DeepgenError("E_FORMAT", `CudaDcganTrainer: ${what} lacks ${t.name}`);
    if (a.length !== t.size)
      throw new DeepgenError("E_SHAPE", `CudaDcganTrainer: ${what} ${t.name} has ${a.length} values, expected ${t.size}`);
    a.set(flat.subarray(at, at + t.size));
    at += t.size;
  }
}

function checkStep(step: number, what: string): number {
  return checkInteger(`CudaDcganTrainer: ${what} Adam step`, step, 0, 2 ** 52);
}

export class CudaDcganTrainer {
  private handle: CudaDcganHandle | null;
  readonly pixels: number;

  private constructor(
    handle: CudaDcganHandle,
    readonly spec: CudaDcganSpec,
    private readonly layout: ReturnType<typeof dcganTensorLayout>,
  ) {
    this.handle = handle;
    this.pixels = spec.height * spec.width;
  }

  static upload(spec: CudaDcganSpec, state: DcganTrainerState): CudaDcganTrainer {
    checkSpec(spec);
    const layout = dcganTensorLayout(spec);
    const gen = flatten("gen", layout.gen, state.gen);
    const disc = flatten("disc", layout.disc, state.disc);
    const buffers = flatten("genBuffers", layout.genBuffers, state.genBuffers);
    const gm = state.genAdam === undefined ? null : flatten("genAdam.m", layout.gen, state.genAdam.m);
    const gv = state.genAdam === undefined ? null : flatten("genAdam.v", layout.gen, state.genAdam.v);
    const dm = state.discAdam === undefined ? null : flatten("discAdam.m", layout.disc, state.discAdam.m);
    const dv = state.discAdam === undefined ? null : flatten("discAdam.v", layout.disc, state.discAdam.v);
    const gs = checkStep(state.genAdam?.step ?? 0, "generator");
    const ds = checkStep(state.discAdam?.step ?? 0, "discriminator");
    const [c0, c1] = spec.channels;
    const [d0, d1] = spec.discChannels;
    const own: CudaDcganSpec = { ...spec, channels: [c0, c1], discChannels: [d0, d1] };
    const handle = callNative(() =>
      cudaAddon().cudaDcganUpload({ ...own, discStddev: own.discStddev === true }, gen, disc, buffers, gm, gv, dm, dv, gs, ds),
    );
    return new CudaDcganTrainer(handle, own, layout);
  }

  get disposed(): boolean {
    return this.handle === null;
  }

  /** One training step on real [m, H*W] (in [-1, 1]) and z [m, zdim], m >= 2. */
  step(real: Float32Array, z: Float32Array, m: number, opts: DcganStepOptions): DcganStepResult {
    const handle = this.live();
    checkInteger("m", m, 2, 1 << 20);
    need("real", real, m * this.pixels);
    need("z", z, m * this.spec.zdim);
    const loss = checkOneOf("loss", opts.loss ?? "nonsaturating", ["nonsaturating", "minimax"] as const);
    for (const [name, v] of [
      ["genLr", opts.genLr],
      ["discLr", opts.discLr],
    ] as const) {
      if (!(typeof v === "number" && v >= 0 && Number.isFinite(v)))
        throw new DeepgenError("E_ARG", `${name} must be a finite number >= 0, got ${v}`);
    }
    const beta1 = opts.beta1 ?? 0.5;
    const beta2 = opts.beta2 ?? 0.999;
    const eps = opts.eps ?? 1e-8;
    for (const [name, b] of [
      ["beta1", beta1],
      ["beta2", beta2],
    ] as const) {
      if (!(b >= 0 && b < 1)) throw new DeepgenError("E_ARG", `${name} must be in [0, 1), got ${b}`);
    }
    if (!(eps > 0 && Number.isFinite(eps))) throw new DeepgenError("E_ARG", `eps must be finite and > 0, got ${eps}`);
    const update = opts.updateGenerator ?? true;
    const options = { genLr: opts.genLr, discLr: opts.discLr, beta1, beta2, eps, minimax: loss === "minimax", updateGenerator: update };
    return callNative((a) => a.cudaDcganStep(handle, real, z, m, options));
  }

  /** G(z) in evaluation mode: z [n, zdim] -> [n, H*W] (tanh range). */
  generate(z: Float32Array, n: number): Float32Array {
    const handle = this.live();
    checkInteger("n", n, 0, 1 << 20);
    need("z", z, n * this.spec.zdim);
    const out = new Float32Array(n * this.pixels);
    callNative((a) => a.cudaDcganGenerate(handle, z, n, out));
    return out;
  }

  /**
   * Copies the device state into the named host arrays (any part may be left out) and returns
   * the Adam step counters; an Adam object's `step` is set too when one is given.
   */
  download(into: Partial<DcganTrainerState> = {}): { genStep: number; discStep: number } {
    const handle = this.live();
    const L = this.layout;
    const size = (l: typeof L.gen) => l.reduce((n, t) => n + t.size, 0);
    const flat = (want: unknown, l: typeof L.gen) => (want === undefined ? null : new Float32Array(size(l)));
    const gp = flat(into.gen, L.gen);
    const dp = flat(into.disc, L.disc);
    const gb = flat(into.genBuffers, L.genBuffers);
    const gm = flat(into.genAdam, L.gen);
    const gv = flat(into.genAdam, L.gen);
    const dm = flat(into.discAdam, L.disc);
    const dv = flat(into.discAdam, L.disc);
    const [genStep, discStep] = callNative((a) => a.cudaDcganDownload(handle, gp, dp, gb, gm, gv, dm, dv));
    if (gp !== null) scatter("gen", L.gen, gp, into.gen!);
    if (dp !== null) scatter("disc", L.disc, dp, into.disc!);
    if (gb !== null) scatter("genBuffers", L.genBuffers, gb, into.genBuffers!);
    if (into.genAdam !== undefined) {
      scatter("genAdam.m", L.gen, gm!, into.genAdam.m);
      scatter("genAdam.v", L.gen, gv!, into.genAdam.v);
      into.genAdam.step = genStep;
    }
    if (into.discAdam !== undefined) {
      scatter("discAdam.m", L.disc, dm!, into.discAdam.m);
      scatter("discAdam.v", L.disc, dv!, into.discAdam.v);
      into.discAdam.step = discStep;
    }
    return { genStep, discStep };
  }

  dispose(): void {
    if (this.handle === null) return;
    const handle = this.handle;
    this.handle = null;
    callNative((a) => a.cudaDcganRelease(handle));
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private live(): CudaDcganHandle {
    if (this.handle === null) throw new DeepgenError("E_ARG", "CudaDcganTrainer: used after dispose()");
    return this.handle;
  }
}

function need(name: string, a: Float32Array, n: number): void {
  checkFloat32Array(name, a);
  if (a.length < n) throw new DeepgenError("E_SHAPE", `${name} has ${a.length} values, needs ${n}`);
}

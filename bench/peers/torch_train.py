#!/usr/bin/env python3
"""PyTorch CPU peer of `npm run bench -- train --peers` (bench/train.ts; not part of the npm
package, never run by the tests). Trains the same models as deepgen, on the same images, with
plain, idiomatic PyTorch (autograd, torch.optim.Adam) and prints one JSON line per case and
thread count: {"case", "threads", "value", "unit", "note"}.

Input: one JSON object on stdin,
  {"data": path, "ntrain": 8004, "ntest": 1996, "dim": 784, "threads": [1, 2],
   "cases": [{"case": name, "kind": ..., "reps": r, ...}, ...]}
where `data` holds the canonical split as little-endian float32, grayscale in [0, 1]: the
ntrain training images, then the ntest test images (bench/train.ts writes it from deepgen's
canonicalSplit, so both sides train on the same 8,004 images). Binary models read x > 0.5,
as deepgen's binarize does; the GANs read 2x - 1.

Each case runs under torch.set_num_threads(t) for every t of `threads`; its value is the
median of `reps` timed runs after one warm-up run. The networks, sizes, losses, batch sizes
and optimizers are deepgen's (lib/models/*.ts, lib/nn/*.ts); the initial weights are
PyTorch's defaults (they do not change the cost). Each kind's comment says what one run is.

Exits with status 1 (message on stderr) when torch is missing.
"""
import ctypes
import json
import math
import re
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as e:
    sys.stderr.write(f"PyTorch is not installed ({e})\n")
    sys.exit(1)


def emit(case, threads, value, unit, note=""):
    print(json.dumps({"case": case, "threads": threads, "value": value, "unit": unit, "note": note}), flush=True)


def median_s(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def batches(n, size, gen):
    """Shuffled minibatch indices of one epoch (the last batch may be short)."""
    perm = torch.randperm(n, generator=gen)
    return [perm[i : i + size] for i in range(0, n, size)]


def mlp(sizes, act):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


# ---- VAE: latent 32, MLP 784-500-500-(2x32) / 32-500-500-784, Bernoulli decoder ----------------
# One run: one epoch over the training images at batch 100 (ELBO, one draw per image, Adam 1e-3).


def vae_epoch_fn(x, c):
    latent, hidden, bs = c["latent"], c["hidden"], c["batch"]
    enc = mlp([x.shape[1], *hidden, 2 * latent], nn.ReLU)
    dec = mlp([latent, *reversed(hidden), x.shape[1]], nn.ReLU)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3)
    gen = torch.Generator().manual_seed(0)

    def epoch():
        for idx in batches(x.shape[0], bs, gen):
            xb = x[idx]
            mu, logvar = enc(xb).chunk(2, dim=1)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            rec = F.binary_cross_entropy_with_logits(dec(z), xb, reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp())
            loss = (rec + kl) / xb.shape[0]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return epoch


# ---- AAE: the shipped aae-mnist-mog10 (latent 2, hidden 200x2, D 200x2, mog10 prior) -------------
# One run: one epoch at batch 100, three phases per batch as lib/models/aae-trainer.ts:
# reconstruction (Adam 1e-3), discriminator on [prior draws; codes], generator (encoder, non-
# saturating), adversarial Adams lr 1e-3 with beta1 0.5, input dropout 0.2, lr decay to 0.1.


def mog10(m, gen):
    comp = torch.randint(0, 10, (m,), generator=gen).float()
    angle = 2 * math.pi * comp / 10
    centres = torch.stack([4 * torch.cos(angle), 4 * torch.sin(angle)], dim=1)
    return centres + 0.5 * torch.randn(m, 2, generator=gen)


def aae_epoch_fn(x, c):
    latent, hidden, bs = c["latent"], c["hidden"], c["batch"]
    drop, decay, epochs = c["inputDropout"], c["lrDecay"], c["epochs"]
    enc = mlp([x.shape[1], *hidden, latent], nn.ReLU)
    dec = mlp([latent, *reversed(hidden), x.shape[1]], nn.ReLU)
    disc = mlp([latent, *c["discHidden"], 1], nn.ReLU)
    ae_opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3)
    d_opt = torch.optim.Adam(disc.parameters(), lr=1e-3, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(enc.parameters(), lr=1e-3, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(0)
    total = max(1, epochs * math.ceil(x.shape[0] / bs))
    state = {"step": 0}

    def epoch():
        for idx in batches(x.shape[0], bs, gen):
            xb = x[idx]
            m = xb.shape[0]
            state["step"] += 1
            f = 1 - (1 - decay) * min(state["step"] - 1, total) / total
            for opt in (ae_opt, d_opt, g_opt):
                for group in opt.param_groups:
                    group["lr"] = 1e-3 * f
            xin = xb * (torch.rand(xb.shape, generator=gen) >= drop)
            # 1. reconstruction
            rec = F.binary_cross_entropy_with_logits(dec(enc(xin)), xb, reduction="sum") / m
            ae_opt.zero_grad(set_to_none=True)
            rec.backward()
            ae_opt.step()
            # 2. discriminator: prior draws (label 1) and codes (label 0)
            codes = enc(xin)
            both = torch.cat([mog10(m, gen), codes.detach()])
            labels = torch.cat([torch.ones(m, 1), torch.zeros(m, 1)])
            d_loss = F.binary_cross_entropy_with_logits(disc(both), labels)
            d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            d_opt.step()
            # 3. generator: the encoder fools the updated discriminator
            g_loss = F.binary_cross_entropy_with_logits(disc(codes), torch.ones(m, 1))
            g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            g_opt.step()

    return epoch


# ---- GANs: one training step at batch 64 (D on [real; G(z)], then G, non-saturating) -----------
# MLP GAN: G z 64 -> 256 -> 256 -> 784 (ReLU, tanh), D 784 -> 256 -> 256 -> 1 (LeakyReLU 0.01).
# DCGAN (lib/nn/dcgan-nets.ts): G z 100 -> dense 128x7x7 -> BN -> ReLU -> convT 4x4/2 64 (no
# bias) -> BN -> ReLU -> convT 4x4/2 1 -> tanh; D conv 4x4/2 64 -> LReLU 0.2 -> conv 4x4/2 128 ->
# LReLU 0.2 -> dense 1. Adam lr 2e-4, beta1 0.5 for both networks.
# One run: `steps` consecutive steps over the training images; the value is per step.


class DcganG(nn.Module):
    def __init__(self, z):
        super().__init__()
        self.dense = nn.Linear(z, 128 * 7 * 7)
        self.net = nn.Sequential(
            nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z):
        return self.net(self.dense(z).view(-1, 128, 7, 7)).view(z.shape[0], -1)


class DcganD(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(128 * 7 * 7, 1),
        )

    def forward(self, x):
        return self.net(x.view(-1, 1, 28, 28))


def gan_steps_fn(x, c):
    bs, steps, zdim = c["batch"], c["steps"], c["zdim"]
    if c["arch"] == "dcgan":
        g, d = DcganG(zdim), DcganD()
    else:
        g = nn.Sequential(mlp([zdim, *c["hidden"], x.shape[1]], nn.ReLU), nn.Tanh())
        d = mlp([x.shape[1], *c["hidden"], 1], nn.LeakyReLU)
    g_opt = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(0)
    labels = torch.cat([torch.ones(bs, 1), torch.zeros(bs, 1)])
    ones = torch.ones(bs, 1)

    def run():
        idx = batches(x.shape[0], bs, gen)[:steps]
        for b in idx:
            real = x[b]
            fake = g(torch.randn(bs, zdim, generator=gen))
            d_loss = F.binary_cross_entropy_with_logits(d(torch.cat([real, fake.detach()])), labels)
            d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            d_opt.step()
            g_loss = F.binary_cross_entropy_with_logits(d(fake), ones)
            g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            g_opt.step()

    return run


# ---- NADE: D 784, H 500, natural order; W^T [D, H], c [H], V [D, H], b [D] ----------------------
#   a_d = c + sum_{k<d} x_k W^T[k],  p(x_d = 1 | x_<d) = sigmoid(b_d + V_d . sigmoid(a_d))
# Two ways to write it in PyTorch (bench/train.ts runs "loop", the faster here):
#   "loop":   the paper's recurrence, one batched step per dimension (784 autograd steps);
#   "cumsum": all pre-activations at once as an exclusive cumulative sum over [B, D, H]
#             (the CUDA peer's form; on the CPU its 157 MB tensors per batch of 100 make it
#             20-80x slower than the loop).
# Training: one epoch at batch 100, mean NLL, Adam 1e-3. Log-likelihood: the test images,
# no autograd, in chunks of 200 (cumsum) or one batch (loop).


class Nade(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        r = math.sqrt(6 / (d + h))
        self.wt = nn.Parameter((torch.rand(d, h) * 2 - 1) * r)
        self.v = nn.Parameter((torch.rand(d, h) * 2 - 1) * r)
        self.c = nn.Parameter(torch.zeros(h))
        self.b = nn.Parameter(torch.zeros(d))

    def logits(self, x, form):
        if form == "cumsum":
            contrib = x[:, :, None] * self.wt[None]
            a = self.c + torch.cumsum(contrib, dim=1) - contrib
            return self.b + (torch.sigmoid(a) * self.v[None]).sum(-1)
        a = self.c.expand(x.shape[0], -1)
        out = []
        for xd, wd, vd in zip(x.unbind(1), self.wt.unbind(0), self.v.unbind(0)):
            out.append(torch.sigmoid(a) @ vd)
            a = a + xd[:, None] * wd
        return self.b + torch.stack(out, dim=1)

    def log_prob(self, x, form):
        return -F.binary_cross_entropy_with_logits(self.logits(x, form), x, reduction="none").sum(-1)


def nade_epoch_fn(x, c):
    model = Nade(x.shape[1], c["hidden"])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    limit = c.get("batches")

    def epoch():
        for idx in batches(x.shape[0], c["batch"], gen)[:limit]:
            loss = -model.log_prob(x[idx], c["form"]).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return epoch


def nade_logprob_fn(x, c):
    model = Nade(x.shape[1], c["hidden"])
    chunk = 200 if c["form"] == "cumsum" else x.shape[0]

    @torch.no_grad()
    def run():
        return torch.cat([model.log_prob(part, c["form"]) for part in x.split(chunk)])

    return run


# ---- PixelRNN: 7x7 mask-A conv, one Row LSTM or Diagonal BiLSTM layer (H channels), residual, ----
# two 1x1 convs (ReLU between), Bernoulli pixels (native/kernels/cpu/pixelrnn.h). The usual
# PyTorch formulation: input-to-state convs over the whole image at once, then a Python loop
# over the rows (Row LSTM, 28 steps) or the diagonals of the skewed map (Diagonal BiLSTM, 55
# steps per direction, both directions). One run: `batches` batches of 32, Adam 1e-3, gradient
# norm clipped at 100 (PixelRnn.fit's defaults); the value is per batch.


def mask_a(h):
    m = torch.zeros(h, 1, 7, 7)
    m[:, :, :3, :] = 1
    m[:, :, 3, :3] = 1
    return m


def lstm_cell(pre, c_prev):
    o, f, i, g = pre.chunk(4, dim=1)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class PixelRnn(nn.Module):
    def __init__(self, kind, h):
        super().__init__()
        self.kind = kind
        self.h = h
        self.conv_in = nn.Conv2d(1, h, 7, padding=3)
        self.register_buffer("mask_a", mask_a(h))
        dirs = 1 if kind == "rowlstm" else 2
        if kind == "rowlstm":
            # input-to-state: 1x3 along the row, mask B (taps (0,-1), (0,0)); state-to-state: 1x3 over the row above
            self.is_conv = nn.ModuleList([nn.Conv2d(h, 4 * h, (1, 3), padding=(0, 1))])
            mask_b = torch.ones(4 * h, h, 1, 3)
            mask_b[:, :, :, 2] = 0
            self.register_buffer("mask_b", mask_b)
            self.ss_w = nn.ParameterList([nn.Parameter(torch.randn(4 * h, h, 3) * 0.05)])
        else:
            # input-to-state: 1x1; state-to-state: 2x1 over the previous column of the skewed map
            self.is_conv = nn.ModuleList([nn.Conv2d(h, 4 * h, 1) for _ in range(dirs)])
            self.ss_w = nn.ParameterList([nn.Parameter(torch.randn(4 * h, h, 2) * 0.05) for _ in range(dirs)])
        self.out1 = nn.Conv2d(h, h, 1)
        self.out2 = nn.Conv2d(h, 1, 1)

    def row_lstm(self, x0):
        conv = self.is_conv[0]
        pre_in = F.conv2d(x0, conv.weight * self.mask_b, conv.bias, padding=(0, 1))
        n, _, _, cols = x0.shape
        h = x0.new_zeros(n, self.h, cols)
        c = x0.new_zeros(n, self.h, cols)
        hs = []
        for pre_row in pre_in.unbind(2):
            h, c = lstm_cell(pre_row + F.conv1d(h, self.ss_w[0], padding=1), c)
            hs.append(h)
        return torch.stack(hs, dim=2)

    def diagonal_lstm(self, x0, d):
        n, _, rows, cols = x0.shape
        steps = rows + cols - 1
        # skew: column s of row r holds image column s - r (a zero column where that is outside)
        r_idx = torch.arange(rows)[:, None]
        col = torch.arange(steps)[None, :] - r_idx
        valid = (col >= 0) & (col < cols)
        skew_idx = torch.where(valid, col, cols)
        pre_in = F.pad(self.is_conv[d](x0), (0, 1))
        skewed = pre_in.gather(3, skew_idx.expand(n, 4 * self.h, rows, steps))
        valid = valid.float().unbind(1)
        h = x0.new_zeros(n, self.h, rows)
        c = x0.new_zeros(n, self.h, rows)
        hs = []
        for s, pre_col in enumerate(skewed.unbind(3)):
            # taps (-1, 0) and (0, -1) of the image are rows r-1 and r of the previous column
            h, c = lstm_cell(pre_col + F.conv1d(h, self.ss_w[d], padding=1)[:, :, :rows], c)
            h, c = h * valid[s], c * valid[s]  # the skew's padding cells stay zero
            hs.append(h)
        unskew_idx = r_idx + torch.arange(cols)[None, :]
        return torch.stack(hs, dim=3).gather(3, unskew_idx.expand(n, self.h, rows, cols))

    def logits(self, x):
        x0 = F.conv2d(x, self.conv_in.weight * self.mask_a, self.conv_in.bias, padding=3)
        if self.kind == "rowlstm":
            x1 = x0 + self.row_lstm(x0)
        else:
            lr = self.diagonal_lstm(x0, 0)
            rl = self.diagonal_lstm(x0.flip(3), 1).flip(3)
            x1 = x0 + lr + F.pad(rl, (0, 0, 1, 0))[:, :, :-1, :]  # right-to-left output one row down
        return self.out2(F.relu(self.out1(x1)))


def pixelrnn_batches_fn(x, c):
    model = PixelRnn(c["net"], c["hidden"])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    images = x.view(-1, 1, 28, 28)

    def run():
        for idx in batches(images.shape[0], c["batch"], gen)[: c["batches"]]:
            xb = images[idx]
            loss = F.binary_cross_entropy_with_logits(model.logits(xb), xb, reduction="sum") / xb.shape[0]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 100.0)
            opt.step()

    return run


# ---- GEMM: C = op(A) op(B) in the layouts deepgen's Dense uses ----------------------------------
#   forward x [m, k] W^T (W [n, k]); dW [m, n] = dy^T x (dy [k, m], x [k, n]); dx = dy W (no transposes)


def gemm_fn(c):
    m, n, k = c["m"], c["n"], c["k"]
    a = torch.randn(k, m) if c.get("transA") else torch.randn(m, k)
    b = torch.randn(n, k) if c.get("transB") else torch.randn(k, n)
    out = torch.empty(m, n)
    a_op = a.t() if c.get("transA") else a
    b_op = b.t() if c.get("transB") else b
    return lambda: torch.mm(a_op, b_op, out=out)


def describe():
    """torch's version, its BLAS, the BLAS library it loaded and (OpenBLAS) the kernels chosen."""
    torch.randn(64, 64) @ torch.randn(64, 64)
    with open("/proc/self/maps") as maps:
        libs = sorted({line.split()[-1] for line in maps if "blas" in line.lower() or "mkl" in line.lower()})
    info = re.findall(r"BLAS_INFO=[^,\s]*", torch.__config__.show())
    core = ""
    for lib in libs:
        try:
            corename = ctypes.CDLL(lib).openblas_get_corename
            corename.restype = ctypes.c_char_p
            core = f", OpenBLAS kernels {corename().decode()}"
        except (OSError, AttributeError):
            pass
    blas = info[0] if info else "BLAS_INFO ?"
    print(f"torch {torch.__version__}, {blas}, loaded {' '.join(libs) or 'no BLAS library'}{core}, {torch.get_num_threads()} threads by default")


def main():
    if "--describe" in sys.argv:
        describe()
        return
    cfg = json.load(sys.stdin)
    dim = cfg["dim"]
    raw = np.fromfile(cfg["data"], dtype="<f4")
    if raw.size != (cfg["ntrain"] + cfg["ntest"]) * dim:
        sys.stderr.write(f"{cfg['data']}: {raw.size} floats, expected {(cfg['ntrain'] + cfg['ntest']) * dim}\n")
        sys.exit(1)
    images = torch.from_numpy(raw.copy()).view(-1, dim)
    train, test = images[: cfg["ntrain"]], images[cfg["ntrain"] :]
    train_bin, test_bin = (train > 0.5).float(), (test > 0.5).float()
    train_gan = 2 * train - 1
    torch.manual_seed(0)
    for t in cfg["threads"]:
        torch.set_num_threads(t)
        for c in cfg["cases"]:
            kind, reps, name = c["kind"], c["reps"], c["case"]
            if kind == "vae":
                emit(name, t, median_s(vae_epoch_fn(train_bin, c), reps), "s")
            elif kind == "aae":
                emit(name, t, median_s(aae_epoch_fn(train_bin, c), reps), "s")
            elif kind == "gan":
                s = median_s(gan_steps_fn(train_gan, c), reps)
                emit(name, t, 1000 * s / c["steps"], "ms", f"median of {reps} runs of {c['steps']} steps")
            elif kind == "nade-epoch":
                s = median_s(nade_epoch_fn(train_bin, c), reps)
                batches_run = c.get("batches")
                if batches_run is None:
                    emit(name, t, s, "s", f"{c['form']} form")
                else:
                    full = math.ceil(train_bin.shape[0] / c["batch"])
                    emit(name, t, s * full / batches_run, "s", f"{c['form']} form; {batches_run} batches, scaled to {full}")
            elif kind == "nade-logprob":
                s = median_s(nade_logprob_fn(test_bin, c), reps)
                emit(name, t, test_bin.shape[0] / s, "images/s", f"{c['form']} form")
            elif kind == "pixelrnn":
                s = median_s(pixelrnn_batches_fn(train_bin, c), reps)
                emit(name, t, 1000 * s / c["batches"], "ms", f"per batch of {c['batch']}; median of {reps} runs of {c['batches']} batches")
            elif kind == "gemm":
                s = median_s(gemm_fn(c), reps, warmup=2)
                emit(name, t, 2 * c["m"] * c["n"] * c["k"] / s / 1e9, "GFLOP/s")
            else:
                sys.stderr.write(f"unknown case kind {kind}\n")
                sys.exit(1)


if __name__ == "__main__":
    main()

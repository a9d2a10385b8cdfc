#!/usr/bin/env python3
"""PyTorch CUDA peer of `npm run bench -- cuda` (not part of the npm package; never run by
the tests). Times the same shapes as bench/cuda.ts with plain, idiomatic PyTorch and prints
one JSON line per case: {"case", "value", "unit", "note"}.

  NADE D 784, H 500 (random weights: PyTorch's cost does not depend on them):
    nade-sample-b{1,100,10000}: the usual loop over the D steps, one batched step each;
    nade-logprob-test: 1,996 random binary images, the vectorized teacher-forced form
    (cumulative pre-activations), in chunks of 200 images.
  DCGAN generator (deepgen's lib/nn/dcgan-nets.ts, eval mode): z 100 -> dense 128x7x7 -> BN ->
    ReLU -> convT 4x4/2 64 -> BN -> ReLU -> convT 4x4/2 1 -> tanh; dcgan-generator-b{1,64,1024}.

Exits with status 1 (message on stderr) when torch or a CUDA device is missing.
"""
import json
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:
    sys.stderr.write("PyTorch is not installed\n")
    sys.exit(1)

if not torch.cuda.is_available():
    sys.stderr.write("PyTorch sees no CUDA device\n")
    sys.exit(1)

dev = torch.device("cuda")
D, H = 784, 500


def median_ms(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2]


def emit(case, value, unit, note=""):
    print(json.dumps({"case": case, "value": value, "unit": unit, "note": note}), flush=True)


g = torch.Generator(device="cpu").manual_seed(0)
r = (6 / (D + H)) ** 0.5
WT = ((torch.rand(D, H, generator=g) * 2 - 1) * r).to(dev)
V = ((torch.rand(D, H, generator=g) * 2 - 1) * r).to(dev)
c = torch.zeros(H, device=dev)
b = torch.zeros(D, device=dev)


@torch.no_grad()
def nade_sample(n):
    a = c.expand(n, H).clone()
    x = torch.empty(n, D, device=dev)
    u = torch.rand(n, D, device=dev)
    for d in range(D):
        p = torch.sigmoid(b[d] + torch.sigmoid(a) @ V[d])
        xd = (u[:, d] < p).float()
        x[:, d] = xd
        a.addr_(xd, WT[d])
    return x


@torch.no_grad()
def nade_log_prob(x):
    out = []
    for chunk in x.split(200):
        # a_d = c + sum_{k<d} x_k WT[k]: exclusive cumulative sum over the steps.
        contrib = chunk[:, :, None] * WT[None, :, :]
        a = c + torch.cumsum(contrib, dim=1) - contrib
        logits = b + (torch.sigmoid(a) * V[None]).sum(-1)
        out.append(-nn.functional.binary_cross_entropy_with_logits(logits, chunk, reduction="none").sum(-1))
    return torch.cat(out)


for batch in (1, 100, 10000):
    reps = 20 if batch == 1 else 5 if batch == 100 else 3
    ms = median_ms(lambda: nade_sample(batch), reps, warmup=1)
    emit(f"nade-sample-b{batch}", batch / ms * 1000, "images/s", f"{ms:.3f} ms per batch")

x_test = (torch.rand(1996, D, generator=g) < 0.13).float().to(dev)
ms = median_ms(lambda: nade_log_prob(x_test), 5)
emit("nade-logprob-test", 1996 / ms * 1000, "images/s")


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(100, 128 * 7 * 7)
        self.net = nn.Sequential(
            nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z):
        return self.net(self.dense(z).view(-1, 128, 7, 7))


gen = Generator().to(dev).eval()
with torch.no_grad():
    for batch in (1, 64, 1024):
        z = torch.randn(batch, 100, device=dev)
        ms = median_ms(lambda: gen(z), 50 if batch == 1 else 20)
        emit(f"dcgan-generator-b{batch}", batch / ms * 1000, "images/s", f"{ms:.3f} ms per batch")

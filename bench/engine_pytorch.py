"""PyTorch CPU peer for bench/engine.bench.ts: trains the engine's reference model with the same shapes.

Usage: python3 bench/engine_pytorch.py --threads N --steps S --warmup W [--layers 2 --d-model 128 --heads 4
       --mlp-ratio 4 --vocab 32 --seq 128 --batch 32]
Prints one JSON line: {"threads", "torch", "tokensPerSecond" (median), "minTokensPerSecond", "maxTokensPerSecond", "cpuTokensPerSecond" (per CPU second of the process, median step),
"stepMs": [...], "firstLoss"}.

The model mirrors src/engine/testing/reference-model.ts: token embedding; per layer pre-LayerNorm, one qkv
linear (with bias), RoPE on q and k in the "half" pair layout (channel p pairs with p + Dh/2) with angle
t * base^(-2p/Dh), causal softmax attention with scale 1/sqrt(Dh), output projection; pre-LayerNorm MLP with
GELU (tanh approximation); final LayerNorm and an untied head without bias; mean cross-entropy; Adam (lr 1e-3).
Each step: zero_grad, forward, backward, Adam step, on one fixed batch of random tokens.
"""

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F


def rotate_half(x, cos, sin):
    # x (B, H, T, Dh); cos/sin (T, Dh/2): (x1, x2) -> (x1 c - x2 s, x1 s + x2 c)
    p = x.shape[-1] // 2
    x1, x2 = x[..., :p], x[..., p:]
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


class Block(torch.nn.Module):
    def __init__(self, c, heads, ratio):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(c)
        self.qkv = torch.nn.Linear(c, 3 * c)
        self.proj = torch.nn.Linear(c, c)
        self.ln2 = torch.nn.LayerNorm(c)
        self.fc1 = torch.nn.Linear(c, ratio * c)
        self.fc2 = torch.nn.Linear(ratio * c, c)

    def forward(self, x, cos, sin, mask):
        b, t, c = x.shape
        dh = c // self.heads
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=-1)
        q = q.view(b, t, self.heads, dh).transpose(1, 2)
        k = k.view(b, t, self.heads, dh).transpose(1, 2)
        v = v.view(b, t, self.heads, dh).transpose(1, 2)
        q = rotate_half(q, cos, sin)
        k = rotate_half(k, cos, sin)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(dh))
        att = att.masked_fill(mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class Model(torch.nn.Module):
    def __init__(self, a):
        super().__init__()
        self.wte = torch.nn.Embedding(a.vocab, a.d_model)
        self.blocks = torch.nn.ModuleList([Block(a.d_model, a.heads, a.mlp_ratio) for _ in range(a.layers)])
        self.lnf = torch.nn.LayerNorm(a.d_model)
        self.head = torch.nn.Linear(a.d_model, a.vocab, bias=False)
        dh = a.d_model // a.heads
        pairs = dh // 2
        inv = torch.tensor([a.rotary_base ** (-2 * i / dh) for i in range(pairs)], dtype=torch.float64)
        ang = torch.arange(a.seq, dtype=torch.float64)[:, None] * inv[None, :]
        self.register_buffer("cos", ang.cos().float())
        self.register_buffer("sin", ang.sin().float())
        self.register_buffer("mask", torch.triu(torch.ones(a.seq, a.seq, dtype=torch.bool), diagonal=1))

    def forward(self, ids):
        x = self.wte(ids)
        for block in self.blocks:
            x = block(x, self.cos, self.sin, self.mask)
        return self.head(self.lnf(x))


def blas_library():
    """The libblas.so.3 this process actually loaded (torch calls it; Debian lets the system choose it)."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                if "libblas.so" in line or "libopenblas" in line:
                    path = line.split()[-1]
                    return "openblas" if "openblas" in path else path
    except OSError:
        pass
    return "unknown"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--mlp-ratio", type=int, default=4)
    p.add_argument("--vocab", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--rotary-base", type=float, default=10000.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Model(a)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    targets = torch.randint(0, a.vocab, (a.batch * a.seq,))
    times = []
    cpu_times = []
    first = None
    for step in range(a.warmup + a.steps):
        start = time.perf_counter()
        start_cpu = time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(ids).view(-1, a.vocab), targets)
        loss.backward()
        opt.step()
        if first is None:
            first = loss.item()
        if step >= a.warmup:
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - start_cpu)
    tokens = a.batch * a.seq
    rates = [tokens / t for t in times]
    print(
        json.dumps(
            {
                "threads": a.threads,
                "torch": torch.__version__,
                "blas": blas_library(),
                "tokensPerSecond": statistics.median(rates),
                "minTokensPerSecond": min(rates),
                "maxTokensPerSecond": max(rates),
                "stepMs": [round(t * 1000, 2) for t in times],
                "cpuTokensPerSecond": tokens / statistics.median(cpu_times),
                "firstLoss": first,
            }
        )
    )


if __name__ == "__main__":
    main()

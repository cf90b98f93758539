"""PyTorch twin of a posenc lab run, for bench/lab.bench.ts (`npm run bench:lab -- --config FILE`).

Usage: python3 bench/lab_pytorch.py DATA.json [--threads 1]
Prints one JSON line: {"torch", "blas", "threads", "tokensPerSecond", "trainSeconds", "trainCpuSeconds", "finalLoss", "rows": [...]}
with rows {"length", "tokenAccuracy", "sequenceAccuracy", "samples"} per test length.

DATA.json (written by lab.bench.ts) holds the run's settings and its examples exactly as posenc trains and scores
them: every step's batch (tokens, targets with -1 at unscored positions, task position ids where the task has them,
real tokens per row, the bucketed loss scale) and every evaluation batch. Everything else is this file's own,
written from the lab's documented setup (src/lab/config.ts, src/model/, pytorch-calibration notes), not from
posenc's code: decoder-only transformer, pre-LayerNorm, separate q/k/v/output projections with bias, MLP with GELU
(tanh), final LayerNorm, untied head with bias; token embedding N(0, 1), nn.Linear's default init; mean
cross-entropy over scored tokens (times the loss scale); AdamW with the config's betas, eps and decoupled weight
decay on every parameter; global grad-norm clipping; linear warmup then cosine to minLrRatio * lr:
  lr(s) = lr (s+1)/W for s < W;  minLr + (lr - minLr) (1 + cos(pi (s-W)/(S-W))) / 2 otherwise.
Encodings: nope, rope (base 10000, rotate-half), randomized-rope (ids = sorted distinct draws from [0, maxPosition)
per row, at training and evaluation), alibi (slopes 2^(-8(h+1)/H)), sinusoidal (base 10000, added to the
embeddings), learned-absolute (N(0,1) table; the task's position ids where given, e.g. position coupling).
Seeds: torch.manual_seed(seed); the twin's initial weights and randomized ids are its own draws, so its accuracy
agrees with posenc's within seed spread, not bit for bit.
"""

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

# The engine bench's peer, beside this file: its BLAS probe and its rotate-half RoPE (cos/sin broadcast over heads).
from engine_pytorch import blas_library, rotate_half

SUPPORTED = ("nope", "rope", "randomized-rope", "alibi", "sinusoidal", "learned-absolute")


class Block(torch.nn.Module):
    def __init__(self, c, heads, ratio):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(c)
        self.q = torch.nn.Linear(c, c)
        self.k = torch.nn.Linear(c, c)
        self.v = torch.nn.Linear(c, c)
        self.o = torch.nn.Linear(c, c)
        self.ln2 = torch.nn.LayerNorm(c)
        self.fc = torch.nn.Linear(c, ratio * c)
        self.proj = torch.nn.Linear(ratio * c, c)

    def forward(self, x, rope, bias):
        b, t, c = x.shape
        dh = c // self.heads
        h = self.ln1(x)
        q, k, v = (m(h).view(b, t, self.heads, dh).transpose(1, 2) for m in (self.q, self.k, self.v))
        if rope is not None:
            q, k = rotate_half(q, *rope), rotate_half(k, *rope)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(dh)) + bias
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.o(y)
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Model(torch.nn.Module):
    def __init__(self, spec):
        super().__init__()
        m = spec["model"]
        c, self.heads = m["dModel"], m.get("numHeads", m.get("heads"))
        self.encoding = spec["encoding"]["id"]
        self.params = spec["encoding"].get("params", {})
        self.embed = torch.nn.Embedding(spec["vocabSize"], c)  # N(0, 1)
        self.blocks = torch.nn.ModuleList(Block(c, self.heads, m["mlpRatio"]) for _ in range(m.get("numLayers", m.get("layers"))))
        self.ln = torch.nn.LayerNorm(c)
        self.head = torch.nn.Linear(c, spec["vocabSize"])
        if self.encoding == "learned-absolute":
            self.table = torch.nn.Embedding(int(self.params.get("maxPositions", 256)), c)

    def position_ids(self, batch, b, t):
        if batch.get("positionIds") is not None:
            return batch["positionIds"]
        ids = torch.arange(t, dtype=torch.float32).expand(b, t).clone()
        if self.encoding == "randomized-rope":
            top = int(self.params.get("maxPosition", 256))
            for r, n in enumerate(batch["rowLengths"].tolist()):
                ids[r, :n] = torch.sort(torch.randperm(top)[:n]).values.float()
                ids[r, n:] = ids[r, n - 1] + 1 + torch.arange(t - n, dtype=torch.float32)
        return ids

    def forward(self, batch):
        tokens = batch["inputs"]
        b, t = tokens.shape
        c = self.embed.embedding_dim
        dh = c // self.heads
        ids = self.position_ids(batch, b, t)
        x = self.embed(tokens)
        if self.encoding == "sinusoidal":
            w = 10000.0 ** (-torch.arange(0, c, 2, dtype=torch.float32) / c)
            angle = ids[..., None] * w
            x = x + torch.stack((angle.sin(), angle.cos()), dim=-1).reshape(b, t, c)
        if self.encoding == "learned-absolute":
            x = x + self.table(ids.long())
        rope = None
        if self.encoding in ("rope", "randomized-rope"):
            inv = 10000.0 ** (-torch.arange(0, dh, 2, dtype=torch.float32) / dh)
            angle = (ids[..., None] * inv)[:, None]  # (B, 1, T, Dh/2)
            rope = (angle.cos(), angle.sin())
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        bias = torch.zeros(t, t).masked_fill(causal, float("-inf"))
        if self.encoding == "alibi":
            slopes = torch.tensor([2.0 ** (-8.0 * (h + 1) / self.heads) for h in range(self.heads)])
            dist = (torch.arange(t)[:, None] - torch.arange(t)[None, :]).clamp(min=0).float()
            bias = bias - slopes[:, None, None] * dist
        for block in self.blocks:
            x = block(x, rope, bias)
        return self.head(self.ln(x))


def tensors(batch):
    b, t = batch["batchSize"], batch["seqLen"]
    out = {
        "inputs": torch.tensor(batch["inputs"], dtype=torch.long).view(b, t),
        "targets": torch.tensor(batch["targets"], dtype=torch.long).view(b, t),
        "rowLengths": torch.tensor(batch["rowLengths"], dtype=torch.long),
        "positionIds": None,
    }
    if batch.get("positionIds") is not None:
        out["positionIds"] = torch.tensor(batch["positionIds"], dtype=torch.float32).view(b, t)
    for key in ("lossScale", "tokens", "rows", "length"):
        if key in batch:
            out[key] = batch[key]
    return out


def learning_rate(step, train):
    steps = train["steps"]
    warmup = round(train["warmupFraction"] * steps)
    peak, low = train["lr"], train["lr"] * train["minLrRatio"]
    if step < warmup:
        return peak * (step + 1) / warmup
    if step >= steps:
        return low
    ratio = (step - warmup) / max(steps - warmup, 1)
    return low + 0.5 * (1 + math.cos(math.pi * ratio)) * (peak - low)


def evaluate(model, batches):
    tally = {}
    model.eval()
    with torch.no_grad():
        for batch in batches:
            rows = batch["rows"]
            pred = model(batch).argmax(-1)[:rows]
            targets = batch["targets"][:rows]
            scored = targets >= 0
            right = (pred == targets) & scored
            row = tally.setdefault(batch["length"], [0, 0, 0, 0])  # right tokens, scored, exact rows, rows
            row[0] += int(right.sum())
            row[1] += int(scored.sum())
            row[2] += int((right == scored).all(dim=1).sum())
            row[3] += rows
    return [
        {"length": n, "tokenAccuracy": r[0] / max(r[1], 1), "sequenceAccuracy": r[2] / r[3], "samples": r[3]}
        for n, r in sorted(tally.items())
    ]


def twin_run():
    """The twins' command line, `DATA.json [--threads N]`: torch at N threads; returns (the run's spec, N)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--threads", type=int, default=1)
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    with open(a.data) as f:
        return json.load(f), a.threads


def main():
    spec, threads = twin_run()
    encoding = spec["encoding"]["id"]
    if encoding not in SUPPORTED:
        print(json.dumps({"skipped": f"encoding {encoding} has no PyTorch twin (twins: {', '.join(SUPPORTED)})"}))
        return
    torch.manual_seed(spec["seed"])
    model = Model(spec)
    train = spec["train"]
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=train["lr"],
        betas=(train["beta1"], train["beta2"]),
        eps=train["eps"],
        weight_decay=train["weightDecay"],
    )
    steps = [tensors(b) for b in spec["steps"]]
    evals = [tensors(b) for b in spec["eval"]]
    tokens = 0
    loss_value = float("nan")
    model.train()
    began = time.perf_counter()
    began_cpu = time.process_time()
    for step, batch in enumerate(steps):
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, train)
        opt.zero_grad(set_to_none=True)
        logits = model(batch)
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), batch["targets"].view(-1), ignore_index=-1)
        (loss * batch["lossScale"]).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), train["gradClip"])
        opt.step()
        loss_value = loss.item()
        tokens += batch["tokens"]
    seconds = time.perf_counter() - began
    cpu_seconds = time.process_time() - began_cpu
    rows = evaluate(model, evals)
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "blas": blas_library(),
                "threads": threads,
                "tokensPerSecond": tokens / seconds,
                "trainSeconds": seconds,
                "trainCpuSeconds": cpu_seconds,
                "finalLoss": loss_value,
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main()

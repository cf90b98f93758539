"""PyTorch twin of a posenc vision run (the patch encoder), for bench/vision.bench.ts (`npm run bench:vision`).

Usage: python3 bench/vision_pytorch.py DATA.json [--threads 1]
Prints one JSON line: {"torch", "blas", "threads", "tokensPerSecond", "trainSeconds", "trainCpuSeconds",
"finalLoss", "rows": [{"grid", "accuracy", "samples"}]}.

DATA.json (written by vision.bench.ts) holds the run's settings and its examples exactly as `posenc vision` draws
them: every step's patches [B, T, P], (row, col) ids and labels, and the evaluation batches of every test grid.
Everything else is this file's own, written from the documented setup of src/model/vision.ts and src/lab/vision/,
not from posenc's code: ViT-style encoder over patches (arXiv:2010.11929) with a linear patch embedding, pre-LN
blocks (q/k/v/output projections with bias, GELU-tanh MLP; the lab twin's Block, non-causal), final LayerNorm,
mean pooling over patches, linear head; nn.Linear's default init; cross-entropy; AdamW (0.9, 0.98, eps 1e-8,
decoupled weight decay) with warmup then cosine (the lab twin's schedule), global grad-norm clipping.
Encodings:
  nope
  learned-2d  a [rows, cols, D] table, N(0, 0.02^2), added to the patch embeddings; at another grid resized by
              F.interpolate(mode="bicubic", align_corners=False) (ViT's 2-D interpolation)
  rope-2d     axial RoPE (arXiv:2403.13298): theta_k = 100^(-4k/Dh), k < Dh/4; the first Dh/4 pairs rotate by
              col * theta_k, the next Dh/4 by row * theta_k. Pairs here are (i, i + Dh/2) (rotate-half) where posenc
              pairs adjacent channels: a fixed permutation of the q/k projection's output channels, so the same
              model family and the same cost.
Seeds: torch.manual_seed(seed); weights are the twin's own draws, so accuracy agrees within seed spread.
"""

import json
import sys
import time

import torch
import torch.nn.functional as F

from engine_pytorch import blas_library, rotate_half
from lab_pytorch import Block, learning_rate, twin_run

SUPPORTED = ("nope", "learned-2d", "rope-2d")


class VisionModel(torch.nn.Module):
    def __init__(self, spec):
        super().__init__()
        m = spec["model"]
        c, self.heads = m["dModel"], m["numHeads"]
        self.encoding = spec["encoding"]
        self.grid = spec["grid"]
        self.patch = torch.nn.Linear(spec["patchDim"], c)
        self.blocks = torch.nn.ModuleList(Block(c, self.heads, m["mlpRatio"]) for _ in range(m["numLayers"]))
        self.ln = torch.nn.LayerNorm(c)
        self.head = torch.nn.Linear(c, spec["numClasses"])
        if self.encoding == "learned-2d":
            self.table = torch.nn.Parameter(0.02 * torch.randn(1, c, self.grid, self.grid))

    def forward(self, patches, ids):
        b, t, _ = patches.shape
        c = self.head.in_features
        x = self.patch(patches)
        rows, cols = int(ids[..., 0].max()) + 1, int(ids[..., 1].max()) + 1
        if self.encoding == "learned-2d":
            table = self.table
            if (rows, cols) != (self.grid, self.grid):
                table = F.interpolate(table, size=(rows, cols), mode="bicubic", align_corners=False)
            flat = table.flatten(2).transpose(1, 2)[0]  # (rows * cols, C)
            x = x + flat[(ids[..., 0] * cols + ids[..., 1]).long()]
        rope = None
        if self.encoding == "rope-2d":
            dh = c // self.heads
            theta = 100.0 ** (-4 * torch.arange(dh // 4, dtype=torch.float32) / dh)
            angle = torch.cat((ids[..., 1:2] * theta, ids[..., 0:1] * theta), dim=-1)[:, None]  # (B, 1, T, Dh/2)
            rope = (angle.cos(), angle.sin())
        for block in self.blocks:
            x = block(x, rope, 0.0)
        return self.head(self.ln(x).mean(dim=1))


def tensors(batch, patch_dim):
    b, t = batch["batchSize"], batch["seqLen"]
    return (
        torch.tensor(batch["patches"], dtype=torch.float32).view(b, t, patch_dim),
        torch.tensor(batch["positionIds"], dtype=torch.float32).view(b, t, 2),
        torch.tensor(batch["labels"], dtype=torch.long),
        batch.get("grid"),
    )


def main():
    spec, threads = twin_run()
    if spec["encoding"] not in SUPPORTED:
        print(json.dumps({"skipped": f"encoding {spec['encoding']} has no PyTorch twin ({', '.join(SUPPORTED)})"}))
        return
    torch.manual_seed(spec["seed"])
    model = VisionModel(spec)
    train = spec["train"]
    opt = torch.optim.AdamW(
        model.parameters(), lr=train["lr"], betas=(0.9, 0.98), eps=1e-8, weight_decay=train["weightDecay"]
    )
    steps = [tensors(b, spec["patchDim"]) for b in spec["steps"]]
    evals = [tensors(b, spec["patchDim"]) for b in spec["eval"]]
    print("ready", file=sys.stderr, flush=True)  # the bench starts posenc's training now
    tokens = 0
    loss_value = float("nan")
    model.train()
    began, cpu_began = time.perf_counter(), time.process_time()
    for step, (patches, ids, labels, _) in enumerate(steps):
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, train)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(patches, ids), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), train["gradClip"])
        opt.step()
        loss_value = loss.item()
        tokens += patches.shape[0] * patches.shape[1]
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    tally = {}
    model.eval()
    with torch.no_grad():
        for patches, ids, labels, grid in evals:
            right = tally.setdefault(grid, [0, 0])
            right[0] += int((model(patches, ids).argmax(-1) == labels).sum())
            right[1] += labels.shape[0]
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "blas": blas_library(),
                "threads": threads,
                "tokensPerSecond": tokens / seconds,
                "trainSeconds": seconds,
                "trainCpuSeconds": cpu,
                "finalLoss": loss_value,
                "rows": [{"grid": g, "accuracy": r[0] / r[1], "samples": r[1]} for g, r in sorted(tally.items())],
            }
        )
    )


if __name__ == "__main__":
    main()

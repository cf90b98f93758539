"""The PyTorch twin of posenc's coordinate-MLP training step (src/fields/mlp.ts), for bench/fields.bench.ts.

Same network, data layout and optimiser: a 128 x 128 grid of pixel-centre coordinates in [-1, 1]^2 (full batch),
RGB targets, `layers` hidden layers of `hidden` units with SIREN (sin(30 z), SIREN's init), ReLU (PyTorch's default
init) or SPDER (sin(30 z) sqrt(|30 z|)), a linear output, mean squared error, Adam. Prints one JSON line with the
mean and the spread of the step time. The targets are random here: the step's cost does not depend on them.
"""
import argparse
import json
import math
import time

import torch


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--activation", choices=["siren", "relu", "spder"], default="siren")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n = a.size
    centres = (torch.arange(n, dtype=torch.float32) * 2 + 1) / n - 1
    yy, xx = torch.meshgrid(centres, centres, indexing="ij")
    x = torch.stack([xx.flatten(), yy.flatten()], dim=1)
    y = torch.rand(n * n, 3)
    dims = [2] + [a.hidden] * a.layers + [3]
    layers = torch.nn.ModuleList(torch.nn.Linear(i, o) for i, o in zip(dims[:-1], dims[1:]))
    if a.activation != "relu":
        with torch.no_grad():
            for k, layer in enumerate(layers):
                fan_in = layer.weight.shape[1]
                bound = 1 / fan_in if k == 0 else math.sqrt(6 / fan_in) / 30
                layer.weight.uniform_(-bound, bound)

    def act(z: torch.Tensor) -> torch.Tensor:
        if a.activation == "relu":
            return torch.relu(z)
        s = 30 * z
        return torch.sin(s) if a.activation == "siren" else torch.sin(s) * torch.sqrt(torch.abs(s))

    opt = torch.optim.Adam(layers.parameters(), lr=1e-4)
    times = []
    cpu = []
    for step in range(a.warmup + a.steps):
        start = time.perf_counter()
        start_cpu = time.process_time()
        h = x
        for layer in layers[:-1]:
            h = act(layer(h))
        loss = torch.mean((layers[-1](h) - y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= a.warmup:
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    ms = [1000 * t for t in times]
    # CPU ms (user + system of this process): equals wall time on a quiet machine, and stays fair on a shared one
    cpu_ms = [1000 * t for t in cpu]
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "meanMs": sum(ms) / len(ms), "minMs": min(ms), "maxMs": max(ms), "cpuMeanMs": sum(cpu_ms) / len(cpu_ms)}))


if __name__ == "__main__":
    main()

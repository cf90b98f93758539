/**
 * The PyTorch peer of the benchmarks (bench/engine.bench.ts, bench/lab.bench.ts): which Python has torch, and the
 * environment that makes Debian's python3-torch use OpenBLAS. python3-torch calls whatever libblas.so.3 the system
 * selects; with the netlib reference BLAS (about 3 GFLOP/s) any ratio would be meaningless, so an OpenBLAS
 * libblas.so.3 directory (`--torch-blas DIR`, env POSENC_TORCH_BLAS_DIR, or Debian's openblas-pthread directory)
 * goes first on the peer's LD_LIBRARY_PATH.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** `python3` or `/usr/bin/python3`, whichever imports torch first; null when none does. */
export function findTorchPython(): string | null {
  for (const python of ["python3", "/usr/bin/python3"]) {
    try {
      execFileSync(python, ["-c", "import torch"], { stdio: "ignore", timeout: 300_000 }); // slow under load
      return python;
    } catch {
      // try the next one
    }
  }
  return null;
}

/** The directory of an OpenBLAS libblas.so.3: `flagDir`, POSENC_TORCH_BLAS_DIR, or Debian's; null if none. */
export function findOpenBlasDir(flagDir?: string): string | null {
  const candidates = [
    flagDir,
    process.env.POSENC_TORCH_BLAS_DIR,
    "/usr/lib/x86_64-linux-gnu/openblas-pthread",
    "/usr/lib/aarch64-linux-gnu/openblas-pthread",
  ];
  for (const dir of candidates) if (dir && existsSync(join(dir, "libblas.so.3"))) return dir;
  return null;
}

/** The peer's environment: OpenBLAS first on LD_LIBRARY_PATH when found, `threads` BLAS threads. */
export function torchEnvironment(blasDir: string | null, threads: number): NodeJS.ProcessEnv {
  const env = { ...process.env, OMP_NUM_THREADS: undefined, MKL_NUM_THREADS: undefined } as NodeJS.ProcessEnv;
  if (blasDir) env.LD_LIBRARY_PATH = [blasDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  // OpenBLAS threads follow the torch setting (its own pool is separate from torch's OpenMP pool).
  env.OPENBLAS_NUM_THREADS = String(threads);
  return env;
}

/** The warning printed when the peer's torch calls the netlib reference BLAS. */
export const NETLIB_BLAS_WARNING =
  "pytorch: WARNING this torch calls the netlib reference BLAS (about 3 GFLOP/s), so the comparison flatters the " +
  "engine. Extract Debian's libopenblas0-pthread (e.g. `apt-get download libopenblas0-pthread && dpkg -x " +
  "libopenblas0-pthread_*.deb /tmp/openblas`) and pass --torch-blas /tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread";

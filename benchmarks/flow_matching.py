"""Flow matching on chapter 4's grid benchmark: modes, HQ share and reverse KL
against the number of network evaluations (NFE).

A velocity network (`gt.nets.DenoisingMLP(2)`, hidden layers of --hidden units) is
trained with `gt.flow.flow_matching_loss` on fresh batches of the 25-Gaussian grid
(`gt.data.grid`, std 0.05), pairing noise and data either independently or by
minibatch optimal transport (`gt.flow.minibatch_ot`, Tong et al. 2023), with Adam
and a cosine learning-rate decay. Then 2,500 samples are drawn with Euler and with
Heun steps at 2, 4, 8, 16 and 32 evaluations per sample, and scored with
`gt.metrics.mode_coverage` (chapter 4's protocol: a sample is high quality within
3 std of a centre). The script measures; it asserts nothing.

Usage:
    .venv/bin/python benchmarks/flow_matching.py [--coupling independent ot]
        [--seed 0 1 2] [--steps 20000] [--json benchmarks/results/flow_grid.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

import gentorch as gt

ROOT = Path(__file__).resolve().parents[1]
NFES = (2, 4, 8, 16, 32)


def train(args, coupling: str, generator: torch.Generator):
    model = gt.nets.DenoisingMLP(2, hidden=tuple(args.hidden))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps)
    for _ in range(args.steps):
        x0 = gt.data.grid(args.batch, generator=generator)
        noise = gt.randn(x0.shape, generator=generator)
        if coupling == "ot":
            noise = gt.flow.minibatch_ot(x0, noise)
        loss = gt.flow.flow_matching_loss(model, x0, noise=noise, generator=generator)
        optimizer.zero_grad()
        loss.mean().backward()
        optimizer.step()
        decay.step()
    return model


def one_run(args, coupling: str, seed: int) -> dict:
    generator = gt.seed_everything(seed)
    start = time.perf_counter()
    model = train(args, coupling, generator)
    seconds = time.perf_counter() - start
    centers = gt.data.grid_centers()
    noise = gt.randn((args.samples, 2), generator=torch.Generator().manual_seed(seed))
    scores = {}
    for method in ("euler", "heun"):
        for nfe in NFES:
            steps = nfe if method == "euler" else nfe // 2
            out = gt.flow.sample(model, noise, num_steps=steps, method=method)
            assert out.nfe == nfe
            cov = gt.metrics.mode_coverage(out.sample, centers, 0.05)
            scores[f"{method}_{nfe}"] = cov._asdict()
    return {"coupling": coupling, "seed": seed, "train_seconds": seconds, **scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--coupling", nargs="+", default=["independent", "ot"])
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256, 256])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--samples", type=int, default=2500)
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "flow_grid.json"
    )
    args = parser.parse_args()
    runs = [one_run(args, c, s) for c in args.coupling for s in args.seed]
    print(f"\nflow matching on the grid, {torch.get_num_threads()} threads")
    print(f"{'coupling':>12} {'method':>6} {'NFE':>4} {'modes':>6} {'HQ':>6} "
          f"{'rKL':>6}")  # fmt: skip
    summary = {}
    for coupling in args.coupling:
        mine = [r for r in runs if r["coupling"] == coupling]
        for method in ("euler", "heun"):
            for nfe in NFES:
                key = f"{method}_{nfe}"
                row = {
                    m: statistics.fmean(r[key][m] for r in mine)
                    for m in ("modes", "hq_fraction", "reverse_kl")
                }
                summary[f"{coupling}_{key}"] = row
                hq, rkl = row["hq_fraction"], row["reverse_kl"]
                print(f"{coupling:>12} {method:>6} {nfe:>4} {row['modes']:>6.1f} "
                      f"{hq:>6.1%} {rkl:>6.3f}")  # fmt: skip
        seconds = statistics.fmean(r["train_seconds"] for r in mine)
        print(f"{coupling:>12} training: {seconds:.0f} s")
    payload = {
        "summary": summary,
        "recipe": {k: v for k, v in vars(args).items() if k not in ("json", "seed")},
        "runs": runs,
        "machine": {
            "platform": platform.platform(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },  # fmt: skip
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Flow matching on chapter 4's grid benchmark: modes, HQ share and reverse KL
against the number of network evaluations (NFE), beside DDIM.

Models (--models), all `gt.nets.DenoisingMLP(2)` with hidden layers of --hidden
units, trained on fresh batches of the 25-Gaussian grid (`gt.data.grid`, std
0.05) with Adam and a cosine learning-rate decay:

* independent: `gt.flow.flow_matching_loss`, noise and data paired at random,
  --steps steps at --lr (chapter 11's first network);
* ot: that network fine-tuned --finetune-steps more steps at --finetune-lr with
  minibatch optimal-transport pairs (`gt.flow.minibatch_ot`, Tong et al. 2023);
* reflow: fine-tuned as long at --reflow-lr on --reflow-pairs fixed pairs (noise,
  the independent network's 16-step Heun sample of it): one rectification (Liu et
  al. 2022);
* control: fine-tuned as long as ot at --finetune-lr, still with random pairs (what
  the extra steps alone do);
* ddim: the same network and budget trained as chapters 8-9's v-prediction
  diffusion model (cosine schedule, T = 1,000), sampled by deterministic DDIM
  ("trailing" spacing), one evaluation per step;
* ot_scratch (not by default, slow): OT pairs from the first step, --steps steps.

Each draws 2,500 samples from the same noise with Euler and Heun steps at 2, 4, 8,
16 and 32 evaluations per sample (DDIM: its own steps), scored with
`gt.metrics.mode_coverage` (chapter 4's protocol: high quality within 3 std of a
centre), and Liu et al.'s straightness S (`gt.flow.straightness`, 600 paths of 32
Euler steps; 0 = straight). The script measures; it asserts nothing.

Usage:
    .venv/bin/python benchmarks/flow_matching.py [--models independent ot ...]
        [--seed 0 1 2] [--steps 14000] [--json benchmarks/results/flow_grid.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import time
from pathlib import Path

import torch

import gentorch as gt

ROOT = Path(__file__).resolve().parents[1]
NFES = (2, 4, 8, 16, 32)


def fit(model, steps: int, lr: float, batch_loss):
    """Adam with a cosine decay on the mean of `batch_loss(model)`, a fresh batch's
    per-example losses at each step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for _ in range(steps):
        loss = batch_loss(model)
        optimizer.zero_grad()
        loss.mean().backward()
        optimizer.step()
        decay.step()
    return model


def train_diffusion(args, scheduler, generator):
    """The same network and budget, trained as chapter 8's v-prediction model."""

    def batch_loss(model):
        x0 = gt.data.grid(args.batch, generator=generator)
        return gt.diffusion.diffusion_loss(model, scheduler, x0, generator=generator)

    model = gt.nets.DenoisingMLP(2, hidden=tuple(args.hidden))
    return fit(model, args.steps, args.lr, batch_loss)


def flow_loss(pairs, generator):
    """The flow-matching loss of the (x0, noise) batches that `pairs()` draws."""

    def batch_loss(model):
        x0, noise = pairs()
        return gt.flow.flow_matching_loss(model, x0, noise=noise, generator=generator)

    return batch_loss


def flows(args, generator) -> tuple[dict, dict]:
    """Every flow model of the run, and its training seconds."""

    def fresh(ot: bool):
        def pairs():
            x0 = gt.data.grid(args.batch, generator=generator)
            noise = gt.randn(x0.shape, generator=generator)
            return x0, gt.flow.minibatch_ot(x0, noise) if ot else noise

        return pairs

    models, seconds = {}, {}
    start = time.perf_counter()
    base = gt.nets.DenoisingMLP(2, hidden=tuple(args.hidden))
    models["independent"] = fit(
        base, args.steps, args.lr, flow_loss(fresh(False), generator)
    )
    seconds["independent"] = time.perf_counter() - start
    more = {"control": (fresh(False), args.finetune_lr),
            "ot": (fresh(True), args.finetune_lr)}  # fmt: skip
    if "reflow" in args.models:
        start = time.perf_counter()
        noise = gt.randn((args.reflow_pairs, 2), generator=generator)
        data = gt.flow.sample(base, noise, num_steps=16, method="heun").sample

        def reflow_pairs():
            index = torch.randint(0, len(noise), (args.batch,), generator=generator)
            return data[index], noise[index]

        more["reflow"] = (reflow_pairs, args.reflow_lr)
        seconds["reflow_pairs"] = time.perf_counter() - start
    for name, (pairs, lr) in more.items():
        if name in args.models:
            start = time.perf_counter()
            model = copy.deepcopy(base)
            loss = flow_loss(pairs, generator)
            models[name] = fit(model, args.finetune_steps, lr, loss)
            seconds[name] = time.perf_counter() - start
    if "ot_scratch" in args.models:
        start = time.perf_counter()
        model = gt.nets.DenoisingMLP(2, hidden=tuple(args.hidden))
        models["ot_scratch"] = fit(
            model, args.steps, args.lr, flow_loss(fresh(True), generator)
        )
        seconds["ot_scratch"] = time.perf_counter() - start
    return models, seconds


def one_run(args, seed: int) -> dict:
    generator = gt.seed_everything(seed)
    models, seconds = flows(args, generator)
    centers = gt.data.grid_centers()
    noise = gt.randn((args.samples, 2), generator=torch.Generator().manual_seed(seed))
    scores = {}
    for name, model in models.items():
        if name not in args.models:
            continue
        out = gt.flow.sample(model, noise[:600], num_steps=32, return_trajectory=True)
        scores[name] = {
            "straightness": gt.flow.straightness(out.trajectory).mean().item()
        }
        for method in ("euler", "heun"):
            for nfe in NFES:
                steps = nfe if method == "euler" else nfe // 2
                out = gt.flow.sample(model, noise, num_steps=steps, method=method)
                assert out.nfe == nfe
                cov = gt.metrics.mode_coverage(out.sample, centers, 0.05)
                scores[name][f"{method}_{nfe}"] = cov._asdict()
    if "ddim" in args.models:
        kw = dict(beta_schedule="cosine", prediction_type="v_prediction")
        ddpm = gt.diffusion.DDPMScheduler(1000, **kw)
        ddim = gt.diffusion.DDIMScheduler(1000, timestep_spacing="trailing", **kw)
        start = time.perf_counter()
        model = train_diffusion(args, ddpm, gt.seed_everything(seed))
        seconds["ddim"] = time.perf_counter() - start
        scores["ddim"] = {}
        for nfe in NFES:
            x = gt.diffusion.sample(model, ddim, tuple(noise.shape), noise=noise,
                                    num_inference_steps=nfe)  # fmt: skip
            cov = gt.metrics.mode_coverage(x, centers, 0.05)
            scores["ddim"][f"euler_{nfe}"] = cov._asdict()
    return {"seed": seed, "train_seconds": seconds, "scores": scores}


MODELS = ("independent", "ot", "reflow", "control", "ddim", "ot_scratch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", nargs="+", choices=MODELS, default=list(MODELS[:-1])
    )
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=14000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256, 256])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--finetune-steps", type=int, default=2000)
    parser.add_argument("--finetune-lr", type=float, default=1e-4)
    parser.add_argument("--reflow-lr", type=float, default=1e-3)
    parser.add_argument("--reflow-pairs", type=int, default=20000)
    parser.add_argument("--samples", type=int, default=2500)
    default_json = ROOT / "benchmarks" / "results" / "flow_grid.json"
    parser.add_argument("--json", type=Path, default=default_json)
    args = parser.parse_args()
    if "independent" not in args.models:
        args.models.insert(0, "independent")  # every flow starts from it
    runs = []
    for seed in args.seed:
        runs.append(one_run(args, seed))
        print(f"seed {seed}: training seconds {runs[-1]['train_seconds']}", flush=True)
    print(f"\nflow matching on the grid, {len(runs)} seed(s), "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    print(f"{'model':>12} {'method':>6} {'NFE':>4} {'modes':>6} {'HQ':>6} "
          f"{'rKL':>6} {'S':>6}")  # fmt: skip
    summary = {}
    for name in runs[0]["scores"]:
        summary[name] = {}
        methods = ("euler",) if name == "ddim" else ("euler", "heun")
        for method in methods:
            for nfe in NFES:
                key = f"{method}_{nfe}"
                row = {
                    m: statistics.fmean(r["scores"][name][key][m] for r in runs)
                    for m in ("modes", "hq_fraction", "reverse_kl")
                }
                row["hq_min"] = min(r["scores"][name][key]["hq_fraction"] for r in runs)
                summary[name][key] = row
                hq, rkl = row["hq_fraction"], row["reverse_kl"]
                print(f"{name:>12} {method:>6} {nfe:>4} {row['modes']:>6.1f} "
                      f"{hq:>6.1%} {rkl:>6.3f}")  # fmt: skip
        if name != "ddim":
            values = [r["scores"][name]["straightness"] for r in runs]
            summary[name]["straightness"] = statistics.fmean(values)
            print(f"{name:>12} straightness S {statistics.fmean(values):.3f}")
    seconds = {
        k: statistics.fmean(r["train_seconds"][k] for r in runs)
        for k in runs[0]["train_seconds"]
    }
    print("training seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()))
    payload = {
        "summary": summary,
        "train_seconds": seconds,
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

"""Flow matching against DDIM on the digits, at equal numbers of network evaluations.

Protocol: chapter 10's leaderboard (`leaderboard.py`). Two networks of one recipe,
`diffusion_digits.py`'s (`gt.nets.DenoisingMLP(64)`, three hidden layers of 512,
6,000 Adam steps of 128 with a cosine decay; --steps changes the number), train
on the same 1,000 training digits from the same seed:

* ddim: chapters 8-9's v-prediction diffusion model (cosine schedule, T = 1,000),
  sampled with deterministic DDIM (eta = 0, "trailing" spacing, nothing clipped);
  one evaluation per step;
* flow: a velocity network trained with `gt.flow.flow_matching_loss` (straight
  paths, independent pairs), sampled with Euler (one evaluation per step) and
  Heun steps (two) on a uniform grid of t;

and, as the reference, DDPM's ancestral sampler with all 1,000 steps. Every sampler
starts from the same 797 noise images. Scores are the leaderboard's (`scores`): the
Frechet distance of the N = 797 samples to the training digits in the 128
features of `gt.metrics.digits_classifier`, Inception Score, precision and recall;
the floor is the 797 held-out digits. NFE = network evaluations per sample. The
script measures; it asserts nothing.

Usage:
    .venv/bin/python benchmarks/flow_digits.py [--seed 0 1 2] [--nfe 2 4 8 16 32]
        [--json benchmarks/results/flow_digits.json]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import diffusion_digits
import leaderboard
import torch
from _report import write_json

import gentorch as gt

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("fd", "is", "precision", "recall")


def samplers(args, data, seed: int) -> tuple[dict, dict]:
    """Train both networks on data["train"]; return {name: sample(noise)} and the
    training seconds of each."""
    recipe = diffusion_digits.build_parser().parse_args([])
    recipe.steps = args.steps or recipe.steps
    kw = dict(beta_schedule="cosine", prediction_type="v_prediction")
    ddpm = gt.diffusion.DDPMScheduler(1000, clip_sample=False, **kw)
    ddim = gt.diffusion.DDIMScheduler(
        1000, clip_sample=False, timestep_spacing="trailing", **kw
    )
    train = SimpleNamespace(x=data["train"], y=None)
    seconds = {}
    start = time.perf_counter()
    diffusion, _ = diffusion_digits.train(
        recipe, ddpm, gt.seed_everything(seed), conditional=False, data=train
    )
    seconds["diffusion"] = time.perf_counter() - start
    start = time.perf_counter()
    flow, _ = diffusion_digits.train(
        recipe,
        None,
        gt.seed_everything(seed),
        conditional=False,
        data=train,
        loss_fn=gt.flow.flow_matching_loss,
    )
    seconds["flow"] = time.perf_counter() - start

    def diffusion_sampler(scheduler, steps):
        def run(noise):
            # only DDPM draws noise on the way
            generator = torch.Generator().manual_seed(seed + 2)
            return gt.diffusion.sample(
                diffusion, scheduler, tuple(noise.shape), noise=noise,
                num_inference_steps=steps, generator=generator,
            )  # fmt: skip

        return run

    def flow_sampler(method, nfe):
        steps = nfe if method == "euler" else nfe // 2

        def run(noise):
            out = gt.flow.sample(flow, noise, num_steps=steps, method=method)
            assert out.nfe == nfe
            return out.sample

        return run

    table = {("ddpm", 1000): diffusion_sampler(ddpm, 1000)}
    for nfe in args.nfe:
        table["ddim", nfe] = diffusion_sampler(ddim, nfe)
        table["flow_euler", nfe] = flow_sampler("euler", nfe)
        if nfe % 2 == 0:
            table["flow_heun", nfe] = flow_sampler("heun", nfe)
    return table, seconds


def one_run(args, seed: int) -> dict:
    data = {
        split: gt.data.digits(split, order="ordered").x
        for split in ("train", "val", "test")
    }
    classifier = gt.metrics.digits_classifier().model
    with torch.no_grad():
        reference = classifier.features(data["train"])
    held_out = torch.cat([data["val"], data["test"]])
    score_gen = torch.Generator().manual_seed(seed + 3000)
    rows = [
        {
            "sampler": "real",
            "nfe": 0,
            **leaderboard.scores(classifier, held_out, reference, score_gen),
        }
    ]
    table, train_seconds = samplers(args, data, seed)
    noise_gen = torch.Generator().manual_seed(seed + 1)
    noise = gt.randn((leaderboard.N_SCORED, 1, 8, 8), generator=noise_gen)
    for (name, nfe), run in table.items():
        start = time.perf_counter()
        images = run(noise)
        seconds = time.perf_counter() - start
        row = {"sampler": name, "nfe": nfe, "sample_seconds": seconds}
        row.update(leaderboard.scores(classifier, images, reference, score_gen))
        rows.append(row)
    return {"seed": seed, "train_seconds": train_seconds, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--nfe", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    parser.add_argument(
        "--steps", type=int, default=None, help="Adam steps (default: the recipe's)"
    )
    default_json = ROOT / "benchmarks" / "results" / "flow_digits.json"
    parser.add_argument("--json", type=Path, default=default_json)
    args = parser.parse_args()
    runs = []
    for seed in args.seed:
        runs.append(one_run(args, seed))
        print(f"seed {seed} done: training {runs[-1]['train_seconds']}", flush=True)
    summary = []
    for i, row in enumerate(runs[0]["rows"]):
        mine = [run["rows"][i] for run in runs]
        entry = {"sampler": row["sampler"], "nfe": row["nfe"]}
        for key in METRICS:
            values = [r[key] for r in mine]
            entry[key] = statistics.fmean(values)
            entry[key + "_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
        summary.append(entry)
    print(f"\nflow matching vs DDIM on the digits, {len(runs)} seed(s), N = "
          f"{leaderboard.N_SCORED}, {torch.get_num_threads()} threads")  # fmt: skip
    print(f"{'sampler':>11} {'NFE':>5} {'FD':>13} {'IS':>5} {'prec':>5} {'rec':>5}")
    for e in summary:
        fd = f"{e['fd']:.2f} ± {e['fd_std']:.2f}"
        print(f"{e['sampler']:>11} {e['nfe']:>5} {fd:>13} {e['is']:>5.2f} "
              f"{e['precision']:>5.2f} {e['recall']:>5.2f}")  # fmt: skip
    train = {k: statistics.fmean(r["train_seconds"][k] for r in runs)
             for k in runs[0]["train_seconds"]}  # fmt: skip
    print("training seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in train.items()))
    write_json(args.json, args, runs, {}, summary=summary, train_seconds=train)


if __name__ == "__main__":
    main()

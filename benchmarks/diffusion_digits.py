"""DDPM on the bundled 8x8 digits: what the network predicts, at chapter 8's budget.

The recipe of chapter 8's digits model: `gt.nets.DenoisingMLP` (three hidden layers
of 512 SiLU units, the time embedding added in each) on the 64 pixels of the shuffled
"train" split (1,257 images), the cosine schedule with T = 1000, L_simple with the
target set by --prediction-types ("epsilon": the noise, as Ho et al. 2020;
"v_prediction"; "sample": x_0), Adam with a cosine learning-rate decay, batches of
128, --steps steps; then 1,000 samples by ancestral sampling through all 1,000 steps,
x_0 estimates clipped to [-1, 1]. Each sample is judged by the digits classifier of
chapter 3 (`gt.metrics.digits_classifier`): the mean of its top-class probability
("confidence"; on the training images themselves it is about 0.95) and the shares of
the rarest and the most common class. A copy check: the median distance from each
sample to its nearest training image, beside the same for the held-out test images.
The script measures; it asserts nothing.

Usage:
    .venv/bin/python benchmarks/diffusion_digits.py [--seed 0 1 2]
        [--prediction-types epsilon v_prediction sample]
        [--json benchmarks/results/diffusion_digits.json]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from _report import write_json

import gentorch as gt

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "diffusion_digits.json"


def one_run(args, prediction_type: str, seed: int) -> dict:
    generator = gt.seed_everything(seed)
    x = gt.data.digits("train").x
    scheduler = gt.diffusion.DDPMScheduler(
        1000, beta_schedule="cosine", clip_sample=True, prediction_type=prediction_type
    )
    model = gt.nets.DenoisingMLP(64, hidden=tuple(args.hidden))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps)
    start = time.perf_counter()
    for _ in range(args.steps):
        index = torch.randint(0, len(x), (args.batch,), generator=generator)
        loss = gt.diffusion.diffusion_loss(
            model, scheduler, x[index], generator=generator
        ).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        decay.step()
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    samples = gt.diffusion.sample(
        model, scheduler, (args.samples, 1, 8, 8), generator=generator
    )
    sample_seconds = time.perf_counter() - start
    classifier = gt.metrics.digits_classifier().model
    with torch.no_grad():
        probs = classifier(samples).softmax(-1)
    shares = torch.bincount(probs.argmax(-1), minlength=10) / args.samples
    test = gt.data.digits("test").x
    nearest = torch.cdist(samples.flatten(1), x.flatten(1)).min(1).values
    nearest_test = torch.cdist(test.flatten(1), x.flatten(1)).min(1).values
    return {
        "seed": seed,
        "confidence": probs.max(-1).values.mean().item(),
        "rarest_class_share": shares.min().item(),
        "commonest_class_share": shares.max().item(),
        "median_distance_to_train": nearest.median().item(),
        "test_median_distance_to_train": nearest_test.median().item(),
        "final_loss": loss.item(),
        "train_seconds": train_seconds,
        "sample_seconds": sample_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--prediction-types",
        nargs="+",
        default=["epsilon", "v_prediction", "sample"],
        choices=["epsilon", "v_prediction", "sample"],
    )
    parser.add_argument("--hidden", type=int, nargs="+", default=[512, 512, 512])
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args()
    runs = [
        {"prediction_type": kind, **one_run(args, kind, seed)}
        for kind in args.prediction_types
        for seed in args.seed
    ]
    keys = [k for k in runs[0] if k not in ("prediction_type", "seed")]
    by_type = {
        kind: {
            key: statistics.fmean(r[key] for r in runs if r["prediction_type"] == kind)
            for key in keys
        }
        for kind in args.prediction_types
    }
    threads = torch.get_num_threads()
    print(f"\nDDPM on digits, {len(args.seed)} seed(s), {threads} threads")
    header = f"{'predicts':>13} {'confidence':>11} {'rarest':>7} {'commonest':>10}"
    print(header + f" {'NN dist':>8} {'test NN':>8} {'train s':>8}")
    for kind, row in by_type.items():
        print(
            f"{kind:>13} {row['confidence']:>11.3f} {row['rarest_class_share']:>7.1%}"
            f" {row['commonest_class_share']:>10.1%}"
            f" {row['median_distance_to_train']:>8.2f}"
            f" {row['test_median_distance_to_train']:>8.2f}"
            f" {row['train_seconds']:>8.1f}"
        )
    write_json(args.json, args, runs, {}, by_prediction_type=by_type)


if __name__ == "__main__":
    main()

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

``--mode samplers`` (chapter 9) measures the steps/quality trade-off instead: the
recipe above with --prediction-type (default "v_prediction"), made
class-conditional (labels dropped to the null label with probability
--label-dropout, for classifier-free guidance),
or a checkpoint of it (--checkpoint, a state_dict); then, from the one model, 270
samples (labelled like the 270 "val" digits, so that the classes come in the
proportions of the floor's) with DDPM's ancestral sampler with
--ddpm-steps steps (1,000 must be among them: the reference; fewer jump between
steps with the exact posterior) and with deterministic DDIM (eta = 0), both with
"trailing" spacing, with --sampler-steps steps,
--draws times each. Quality is the Frechet distance between the samples and the
"test" digits in the classifier's 128 features (`gt.metrics.frechet_distance`);
the floor is the same distance between the 270 "val" and the 270 "test" digits,
two real sets of the same size. Seconds are wall time per 270 samples.

Usage:
    .venv/bin/python benchmarks/diffusion_digits.py [--seed 0 1 2]
        [--prediction-types epsilon v_prediction sample]
        [--json benchmarks/results/diffusion_digits.json]
    .venv/bin/python benchmarks/diffusion_digits.py --mode samplers [--seed 0 1]
        [--checkpoint PATH] [--json benchmarks/results/diffusion_samplers.json]
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
DEFAULT_JSON = {
    "prediction-types": ROOT / "benchmarks" / "results" / "diffusion_digits.json",
    "samplers": ROOT / "benchmarks" / "results" / "diffusion_samplers.json",
}


def train(args, scheduler, generator, *, conditional: bool, data=None, loss_fn=None):
    """The recipe's Adam loop on `data` (default: the digits' "train" split); with
    `conditional`, labels are dropped to the null label with probability
    args.label_dropout. `loss_fn(model, x0, class_labels=, generator=)` returns
    per-example losses (default: `gt.diffusion.diffusion_loss` with `scheduler`;
    flow_digits.py passes `gt.flow.flow_matching_loss`). Returns the model and last
    loss."""
    if loss_fn is None:

        def loss_fn(model, x0, **kw):
            return gt.diffusion.diffusion_loss(model, scheduler, x0, **kw)

    data = gt.data.digits("train") if data is None else data
    x, y = data.x, data.y
    model = gt.nets.DenoisingMLP(
        64, hidden=tuple(args.hidden), num_classes=10 if conditional else None
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps)
    for _ in range(args.steps):
        index = torch.randint(0, len(x), (args.batch,), generator=generator)
        labels = None
        if conditional:
            drop = torch.rand(args.batch, generator=generator) < args.label_dropout
            labels = torch.where(drop, 10, y[index])
        loss = loss_fn(model, x[index], class_labels=labels, generator=generator)
        loss = loss.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        decay.step()
    return model, loss


def one_run(args, prediction_type: str, seed: int) -> dict:
    generator = gt.seed_everything(seed)
    x = gt.data.digits("train").x
    scheduler = gt.diffusion.DDPMScheduler(
        1000, beta_schedule="cosine", clip_sample=True, prediction_type=prediction_type
    )
    start = time.perf_counter()
    model, loss = train(args, scheduler, generator, conditional=False)
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


def samplers_run(args, seed: int, classifier, labels, test_features) -> dict:
    """One trained (or loaded) model through every sampler setting; `labels` are
    the samples' class labels and `test_features` the test digits' features."""
    generator = gt.seed_everything(seed)
    kwargs = {"beta_schedule": "cosine", "prediction_type": args.prediction_type}
    ddpm = gt.diffusion.DDPMScheduler(
        1000, clip_sample=args.clip_sample, timestep_spacing="trailing", **kwargs
    )
    ddim = gt.diffusion.DDIMScheduler(
        1000, clip_sample=args.clip_sample, timestep_spacing="trailing", **kwargs
    )
    if args.checkpoint is None:
        model, _ = train(args, ddpm, generator, conditional=True)
    else:
        model = gt.nets.DenoisingMLP(64, hidden=tuple(args.hidden), num_classes=10)
        model.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    settings = [("ddpm", n) for n in args.ddpm_steps]
    settings += [("ddim", n) for n in args.sampler_steps]
    rows = []
    for sampler, steps in settings:
        scheduler = ddpm if sampler == "ddpm" else ddim
        fds, seconds = [], []
        for _ in range(args.draws):
            start = time.perf_counter()
            samples = gt.diffusion.sample(
                model,
                scheduler,
                (len(labels), 1, 8, 8),
                class_labels=labels,
                num_inference_steps=steps,
                generator=generator,
            )
            seconds.append(time.perf_counter() - start)
            with torch.no_grad():
                features = classifier.features(samples)
            fds.append(gt.metrics.frechet_distance(features, test_features).item())
        rows.append(
            {
                "sampler": sampler,
                "steps": steps,
                "fd": statistics.fmean(fds),
                "fd_sd": statistics.stdev(fds) if len(fds) > 1 else 0.0,
                "seconds": statistics.fmean(seconds),
            }
        )
    return {"seed": seed, "settings": rows}


def samplers_main(args) -> None:
    classifier = gt.metrics.digits_classifier().model
    val, test = gt.data.digits("val"), gt.data.digits("test")
    with torch.no_grad():
        val_features, test_features = (classifier.features(d.x) for d in (val, test))
    floor = gt.metrics.frechet_distance(val_features, test_features).item()
    # the samples carry the 270 "val" digits' labels: the floor's class proportions
    runs = [
        samplers_run(args, seed, classifier, val.y, test_features) for seed in args.seed
    ]
    settings = []
    for i, row in enumerate(runs[0]["settings"]):
        rows = [run["settings"][i] for run in runs]
        settings.append(
            {
                "sampler": row["sampler"],
                "steps": row["steps"],
                **{k: statistics.fmean(r[k] for r in rows) for k in ("fd", "seconds")},
            }
        )
    reference = next(
        r for r in settings if r["sampler"] == "ddpm" and r["steps"] == 1000
    )
    print(
        f"\nSamplers on digits, {len(args.seed)} seed(s) x {args.draws} draws of "
        f"270, {torch.get_num_threads()} threads; floor (val vs test) {floor:.2f}"
    )
    print(
        f"{'sampler':>8} {'steps':>6} {'FD':>7} {'vs DDPM':>8} {'seconds':>8} "
        f"{'speed-up':>9}"
    )
    for row in settings:
        print(
            f"{row['sampler']:>8} {row['steps']:>6} {row['fd']:>7.2f} "
            f"{row['fd'] / reference['fd'] - 1:>+8.0%} {row['seconds']:>8.2f} "
            f"{reference['seconds'] / row['seconds']:>8.0f}x"
        )
    write_json(args.json, args, runs, {}, settings=settings, floor=floor)


def build_parser() -> argparse.ArgumentParser:
    """The command line; its defaults are the recipe (benchmarks/leaderboard.py
    reads them too)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mode", choices=list(DEFAULT_JSON), default="prediction-types"
    )
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
    parser.add_argument("--label-dropout", type=float, default=0.1)
    parser.add_argument(
        "--prediction-type",
        default="v_prediction",
        choices=["epsilon", "v_prediction", "sample"],
    )
    parser.add_argument("--clip-sample", action="store_true")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument(
        "--sampler-steps", type=int, nargs="+", default=[10, 20, 50, 100, 1000]
    )
    parser.add_argument(
        "--ddpm-steps", type=int, nargs="+", default=[10, 20, 50, 100, 1000]
    )
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    if args.json is None:
        args.json = DEFAULT_JSON[args.mode]
    if args.mode == "samplers":
        samplers_main(args)
        return
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

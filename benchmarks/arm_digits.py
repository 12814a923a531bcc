"""The autoregressive-model likelihood benchmark on the bundled 8x8 digits.

Protocol as `benchmarks/vae_digits.py` (scikit-learn's order, unshuffled; train = the
first 1,000 images, validation = the next 350, test = the last 447; 17 grey levels):
an exact test NLL, -log p(x) = -sum_d log p(x_d | x_<d) over the 64 pixels in raster
order. The model is `gt.arm.MADE` (two masked hidden layers of 1,024 SiLU units,
dropout 0.5) with a two-component discretized-logistic head per pixel
(`gt.nets.DiscretizedLogistic`). Training: Adam on minibatches of 100; half of the
images of each batch shifted by one pixel in a random direction (the background
filling in), a cheap way to get more digits; the validation NLL after every epoch,
the best parameters kept, stopped after --patience epochs without improvement or at
--budget-seconds. For reference, a published open-source ARM on this protocol reaches
86.3 nats. The script measures; it asserts nothing.

Usage:
    .venv/bin/python benchmarks/arm_digits.py [--seed 0 1 2]
        [--json benchmarks/results/arm_digits.json]

With several seeds the JSON's top-level numbers are means, and "runs" lists each.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import torch
from _report import mean_over_seeds, print_table, write_json
from torch import nn

import gentorch as gt

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "arm_digits.json"


def build(args):
    made = gt.arm.MADE(
        64, 3 * args.components, hidden=tuple(args.hidden), dropout=args.dropout
    )
    return nn.ModuleDict(
        {
            "made": made,
            "head": gt.nets.DiscretizedLogistic(17, components=args.components),
        }
    )


def nll(model, x):
    """-log p(x) per image, nats: (B, 64) -> (B,)."""
    logits = model["head"](model["made"](x))  # (B, 64, 17)
    levels = ((x + 1) * 8).round().long()
    return -gt.distributions.categorical_log_prob(levels, logits).sum(dim=1)


def fit(args, generator, train, val):
    """The recipe's training: the model with its best validation parameters, in eval
    mode, and {"val_nll_nats", "best_epoch", "epochs", "train_seconds"}."""
    model = build(args)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    best, best_state, best_epoch, epoch = float("inf"), None, 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.budget_seconds:
        epoch += 1
        model.train()
        order = torch.randperm(len(train), generator=generator)
        for batch in train[order].split(args.batch):
            images = gt.data.shift_pixels(
                batch.view(-1, 8, 8), prob=args.shift_prob, generator=generator
            )
            batch = images.reshape(len(batch), 64)
            loss = nll(model, batch).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            value = nll(model, val).mean().item()
        if value < best:
            best, best_epoch = value, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= args.patience:
            break
    train_seconds = time.perf_counter() - start
    model.load_state_dict(best_state)
    model.eval()
    info = {
        "val_nll_nats": best,
        "best_epoch": best_epoch,
        "epochs": epoch,
        "train_seconds": train_seconds,
    }
    return model, info


def one_run(args, seed):
    generator = gt.seed_everything(seed)
    data = {
        split: gt.data.digits(split, order="ordered").x.flatten(1)
        for split in ("train", "val", "test")
    }
    model, info = fit(args, generator, data["train"], data["val"])
    with torch.no_grad():
        test = nll(model, data["test"]).mean().item()
    return {
        "seed": seed,
        "test_nll_nats": test,
        "test_bits_per_dim": gt.distributions.nats_to_bits_per_dim(test, 64),
        **info,
    }


def build_parser() -> argparse.ArgumentParser:
    """The command line; its defaults are the recipe (benchmarks/leaderboard.py
    reads them too)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[1024, 1024])
    parser.add_argument("--components", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--shift-prob", type=float, default=0.5)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--patience", type=int, default=30)
    parser.add_argument("--budget-seconds", type=float, default=170.0)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    runs = [one_run(args, seed) for seed in args.seed]
    means = mean_over_seeds(runs)
    params = gt.count_parameters(build(args))
    print(f"\nMADE on digits, {params:,} parameters, {torch.get_num_threads()} threads")
    columns = [
        ("NLL nats", "test_nll_nats", ".2f"),
        ("bits/dim", "test_bits_per_dim", ".3f"),
        ("epochs", "epochs", ".0f"),
        ("train s", "train_seconds", ".1f"),
    ]
    print_table(runs, means, columns)
    print("target (issue 17): test NLL <= 84 nats, mean of 3 seeds, <= 3 min each")
    write_json(args.json, args, runs, means, params=params)


if __name__ == "__main__":
    main()

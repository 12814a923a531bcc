"""The VAE likelihood benchmark on the bundled 8x8 digits (chapter 6's VAE).

Protocol (that of published VAE likelihoods on these digits, so numbers compare):
scikit-learn's `load_digits` in its own order, unshuffled; train = the first 1,000
images, validation = the next 350, test = the last 447 (`gt.data.digits(split,
order="ordered")`); each pixel's value 0..16 is one of 17 categories. The model is
`gt.vae.mlp_vae` (by default 16 latent dimensions, two hidden layers of 512 SiLU
units, a two-component discretized-logistic head: an ordinal categorical over the 17
levels). It trains with Adam on minibatches of 100, checks the validation -ELBO every
--eval-every epochs and keeps the best parameters (early stopping with --patience
epochs of patience). Then it reports on the test set:

* test -ELBO: the mean over test images of -ELBO(x), each averaged over 100 draws
  of z ~ q(z|x) (the KL term is exact);
* test IWAE NLL: -L_k(x) with k = --iwae-k (1000) importance samples, the tighter
  bound on -log p(x) (Burda et al. 2016);

both in nats per image and bits per dimension, with the parameter count and the
training wall time (validation checks included; test evaluation excluded). For
reference, a well-known open-source VAE reports a test -ELBO of about 96-97 nats on
this protocol. The script measures; it asserts nothing.

Usage:
    .venv/bin/python benchmarks/vae_digits.py [--seed 0 1 2] [--head logistic]
        [--json benchmarks/results/vae_digits.json]

With several seeds the JSON's top-level numbers are the means over seeds, and "runs"
lists each seed's.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import torch
from _report import mean_over_seeds, print_table, write_json

import gentorch as gt

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "vae_digits.json"


@torch.no_grad()
def mean_neg_elbo(model, x, draws, generator):
    """-ELBO averaged over `draws` samples of z per image, then over images."""
    values = [
        gt.vae.negative_elbo(model, x, generator=generator).value for _ in range(draws)
    ]
    return torch.stack(values).mean().item()


@torch.no_grad()
def iwae_nll(model, x, k, generator, batch=50):
    """-L_k per image, averaged over images."""
    out = [
        -gt.vae.iwae_bound(model, xb, k, generator=generator, chunk_size=50)
        for xb in x.split(batch)
    ]
    return torch.cat(out).mean().item()


def fit(args, generator, train, val, eval_generator):
    """The recipe's training: the model with its best validation parameters, in eval
    mode, and {"val_neg_elbo_nats", "best_epoch", "epochs", "train_seconds"}."""
    components = None if args.head == "categorical" else args.components
    model = gt.vae.mlp_vae(
        args.latent_dim,
        image_size=8,
        hidden=tuple(args.hidden),
        logistic_components=components,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    best, best_state, best_epoch, epoch = float("inf"), None, 0, 0
    start = time.perf_counter()
    for epoch in range(1, args.max_epochs + 1):
        order = torch.randperm(len(train), generator=generator)
        for batch in train[order].split(args.batch):
            loss = gt.vae.negative_elbo(model, batch, generator=generator).value.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if epoch % args.eval_every == 0:
            with gt.eval_mode(model):
                value = mean_neg_elbo(model, val, 5, eval_generator)
            if value < best:
                best, best_epoch = value, epoch
                best_state = copy.deepcopy(model.state_dict())
            elif epoch - best_epoch >= args.patience:
                break
    train_seconds = time.perf_counter() - start
    model.load_state_dict(best_state)
    model.eval()
    info = {
        "val_neg_elbo_nats": best,
        "best_epoch": best_epoch,
        "epochs": epoch,
        "train_seconds": train_seconds,
    }
    return model, info


def one_run(args, seed: int) -> dict:
    generator = gt.seed_everything(seed)
    train = gt.data.digits("train", order="ordered").x
    val = gt.data.digits("val", order="ordered").x
    test = gt.data.digits("test", order="ordered").x
    eval_generator = torch.Generator().manual_seed(seed + 1000)
    model, info = fit(args, generator, train, val, eval_generator)
    test_generator = torch.Generator().manual_seed(seed + 2000)
    neg_elbo = mean_neg_elbo(model, test, 100, test_generator)
    nll = iwae_nll(model, test, args.iwae_k, test_generator)
    dims = test[0].numel()
    return {
        "seed": seed,
        "test_neg_elbo_nats": neg_elbo,
        "test_iwae_nll_nats": nll,
        "test_neg_elbo_bits_per_dim": gt.distributions.nats_to_bits_per_dim(
            neg_elbo, dims
        ),
        "test_iwae_nll_bits_per_dim": gt.distributions.nats_to_bits_per_dim(nll, dims),
        **info,
    }


def build_parser() -> argparse.ArgumentParser:
    """The command line; its defaults are the recipe (benchmarks/leaderboard.py
    reads them too)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--head", choices=["logistic", "categorical"], default="logistic"
    )
    parser.add_argument("--components", type=int, default=2)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--hidden", type=int, nargs="+", default=[512, 512])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--max-epochs", type=int, default=400)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--patience", type=int, default=40)
    parser.add_argument("--iwae-k", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    runs = [one_run(args, seed) for seed in args.seed]
    means = mean_over_seeds(runs)
    model = gt.vae.mlp_vae(
        args.latent_dim,
        image_size=8,
        hidden=tuple(args.hidden),
        logistic_components=None if args.head == "categorical" else args.components,
    )
    params = gt.count_parameters(model)
    print(f"\nVAE on digits ({args.head} head), {params:,} parameters, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    columns = [
        ("-ELBO nats", "test_neg_elbo_nats", ".2f"),
        ("IWAE nats", "test_iwae_nll_nats", ".2f"),
        ("-ELBO b/d", "test_neg_elbo_bits_per_dim", ".3f"),
        ("IWAE b/d", "test_iwae_nll_bits_per_dim", ".3f"),
        ("epochs", "epochs", ".0f"),
        ("train s", "train_seconds", ".1f"),
    ]
    print_table(runs, means, columns)
    print("targets (mean of 3 seeds): -ELBO <= 93, IWAE NLL <= 90.5 nats, <= 30 s")
    write_json(
        args.json, args, runs, means, iwae_k=args.iwae_k, params=params, head=args.head
    )


if __name__ == "__main__":
    main()

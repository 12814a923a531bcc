"""The book's leaderboard: every model family, trained on the digits, one metric suite.

Protocol. The data are the bundled 8x8 digits in scikit-learn's order (train = the
first 1,000 images, validation = the next 350, test = the last 447: the likelihood
protocol of `vae_digits.py` and `arm_digits.py`). Every model trains on the same
1,000 training digits with its chapter's recipe:

* gan: chapter 3's MLP GAN (batch norm in G, non-saturating loss, 3,000 steps);
* gan_plain: chapter 4's digits GAN: chapter 3's without batch norm (2,000 steps),
  the run that drops classes;
* gan_noise: the same with chapter 4's cure on the digits, instance noise;
* vae: chapter 6's VAE (`vae_digits.py`'s recipe; samples are decoder means);
* vqvae: chapter 7's VQ-VAE (16 codes of 16 dimensions on a 4x4 grid) and a MADE
  prior over its 16 tokens; samples are decoded means;
* arm: chapter 7's MADE over the 64 pixels (`arm_digits.py`'s recipe);
* ddpm, ddim: one v-prediction DenoisingMLP (chapters 8-9, cosine schedule, T =
  1,000, 6,000 Adam steps), sampled by DDPM with 1,000 steps and by DDIM with 50
  "trailing" steps, neither clipping x0 nor the final samples (as in chapter 9),
  whose values overshoot [-1, 1] a little.

Scores, in the 128 features of `gt.metrics.digits_classifier`, against the 1,000
training digits (the reference set, as FID references a training set):

* fd: the Fréchet distance of N = 797 samples (as many as there are held-out
  digits, so the floor below has the same N);
* is: the Inception-Score formula on the classifier's logits of those samples;
* precision, recall: k = 3 nearest neighbours (Kynkäänniemi et al. 2019), N samples
  against N training digits;
* nll: test -log p(x) in nats per image where the model has one: exact (arm) or an
  upper bound (vae: IWAE k = 1,000; vqvae: the prior's token NLL + the decoder's);
* train_seconds, sample_seconds (for N samples).

Samples are scored as the models return them; chapter 10 shows what clamping the
diffusion samples to [-1, 1] does.

The floor is the same scores for the 797 held-out real digits. `--samples` saves
seed 0's samples (1,000 per model, float16) and reconstructions of the test digits
(vae, vqvae) for chapter 10, which recomputes its numbers from them. The script
measures; it asserts nothing.

Usage:
    .venv/bin/python benchmarks/leaderboard.py [--seed 0 1 2] [--models gan vae ...]
        [--json benchmarks/results/leaderboard.json]
        [--samples benchmarks/results/leaderboard_samples.pt]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import arm_digits
import diffusion_digits
import torch
import torch.nn.functional as F
import vae_digits
from torch import nn

import gentorch as gt

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODELS = ("gan", "gan_plain", "gan_noise", "vae", "vqvae", "arm", "ddpm", "ddim")
N_SCORED = 797
N_SAVED = 1000


def to_levels(x):
    # model range [-1, 1] -> grey levels 0..16, int64
    return ((x + 1) * 8).round().long()


# ---------------------------------------------------------------- the recipes
def gan(data, generator, *, batch_norm: bool, noise: bool):
    """Chapter 3's digits GAN (batch_norm) or chapter 4's (without; noise: with
    instance noise)."""
    G = gt.gan.MLPGenerator(
        32,
        (1, 8, 8),
        hidden=(256, 256),
        output_activation="tanh",
        norm="batch" if batch_norm else None,
    )
    D = gt.gan.MLPDiscriminator((1, 8, 8), hidden=(256, 256))
    opt_g = torch.optim.Adam(G.parameters(), lr=5e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=5e-4, betas=(0.5, 0.999))
    x = data["train"]
    steps = 3000 if batch_norm else 2000
    pixel_std = x.std().item()
    recipe = gt.mode_collapse.Recipe(noise_start=0.3 / pixel_std)
    for step in range(steps):
        index = torch.randint(len(x), (64,), generator=generator)
        if batch_norm:
            gt.gan.discriminator_step(G, D, opt_d, x[index], generator=generator)
            gt.gan.generator_step(G, D, opt_g, 64, generator=generator)
            continue
        sigma = gt.mode_collapse.instance_noise_std(step / steps, pixel_std, recipe)
        sigma = sigma if noise else 0.0
        fake = G(gt.randn((64, 32), generator=generator))
        blur = [sigma * gt.randn(fake.shape, generator=generator) for _ in range(3)]
        loss_d = gt.gan.discriminator_loss(
            D(x[index] + blur[0]), D(fake.detach() + blur[1])
        ).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        D.requires_grad_(False)
        loss_g = gt.gan.generator_loss(D(fake + blur[2])).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        D.requires_grad_(True)
    G.eval()

    def sample(n, gen):
        with torch.no_grad():
            return G(gt.randn((n, 32), generator=gen))

    return SimpleNamespace(sample=sample, nll=None, params=gt.count_parameters(G))


def vae(data, generator):
    """Chapter 6's VAE with vae_digits.py's recipe and early stopping."""
    recipe = vae_digits.build_parser().parse_args([])
    eval_generator = torch.Generator().manual_seed(generator.initial_seed() + 1000)
    model, _ = vae_digits.fit(
        recipe, generator, data["train"], data["val"], eval_generator
    )

    def sample(n, gen):
        with torch.no_grad():
            return model.sample(n, generator=gen, mean=True)

    def nll(x, gen):
        return vae_digits.iwae_nll(model, x, 1000, gen)

    def reconstruct(x):
        with torch.no_grad():
            return model(x)

    return SimpleNamespace(
        sample=sample, nll=nll, reconstruct=reconstruct,
        params=gt.count_parameters(model),
    )  # fmt: skip


class VQVAE(nn.Module):
    """Chapter 7's VQ-VAE: (B, 1, 8, 8) -> 4x4 codes of 16 dims -> 17-level logits."""

    def __init__(self, codebook_size=16, dim=16, ch=32):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, ch, 3, padding=1), nn.SiLU(),
            nn.Conv2d(ch, ch, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(ch, ch, 3, padding=1), nn.SiLU(), nn.Conv2d(ch, dim, 1),
        )  # fmt: skip
        self.quantizer = gt.vq.VectorQuantizer(
            dim, codebook_size, ema_decay=0.99, commitment_weight=0.25
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(dim, ch, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(ch, ch, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(ch, ch, 3, padding=1), nn.SiLU(), nn.Conv2d(ch, 6, 1),
        )  # fmt: skip
        self.head = gt.nets.DiscretizedLogistic(17, components=2)

    def encode(self, x):
        # (B, 1, 8, 8) -> (B, 4, 4, dim), channel-last for the quantizer
        return self.encoder(x).permute(0, 2, 3, 1)

    def decode(self, z_q):
        # (B, 4, 4, dim) -> (B, 64, 17) logits over the grey levels
        params = self.decoder(z_q.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return self.head(params.reshape(len(z_q), 64, 6))

    def forward(self, x):
        out = self.quantizer(self.encode(x))
        logits = self.decode(out.quantized)
        nll = -gt.distributions.categorical_log_prob(to_levels(x.flatten(1)), logits)
        return nll.sum(1), out

    def decode_mean(self, tokens):
        # (B, 16) tokens -> (B, 1, 8, 8), each pixel's expected level
        codes = self.quantizer.codebook_lookup(tokens.view(-1, 4, 4))
        return gt.distributions.categorical_mean(self.decode(codes)).view(-1, 1, 8, 8)


def vqvae(data, generator):
    """Chapter 7's VQ-VAE (150 epochs) and its MADE prior over tokens (100 epochs,
    best validation epoch kept)."""
    x_train, x_val = data["train"], data["val"]
    model = VQVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(150):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        for batch in x_train[order].split(100):
            batch = gt.data.shift_pixels(batch, prob=0.5, generator=generator)
            nll, out = model(batch)
            loss = (nll + out.loss).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            model.quantizer.restart_dead_codes(model.encode(batch), generator=generator)
    model.eval()

    def tokens_of(x):
        with torch.no_grad():
            return model.quantizer.nearest(model.encode(x)).flatten(1)  # (B, 16)

    def token_nll(prior, tokens):
        log_p = prior(F.one_hot(tokens, 16).float()).log_softmax(-1)
        return -log_p.gather(2, tokens[..., None])[..., 0].sum(1)

    prior = gt.arm.MADE(16, 16, in_per_dim=16, hidden=(512, 512), dropout=0.3)
    optimizer = torch.optim.Adam(prior.parameters(), lr=1e-3)
    train_tokens, val_tokens = tokens_of(x_train), tokens_of(x_val)
    best = (math.inf, None)
    for _ in range(100):
        prior.train()
        order = torch.randperm(len(x_train), generator=generator)
        for index in order.split(100):
            loss = token_nll(prior, train_tokens[index]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        prior.eval()
        with torch.no_grad():
            value = token_nll(prior, val_tokens).mean().item()
        if value < best[0]:
            best = (value, {k: v.clone() for k, v in prior.state_dict().items()})
    prior.load_state_dict(best[1])
    prior.eval()

    def sample(n, gen):
        start = torch.zeros(n, 16, dtype=torch.int64)
        logits_fn = lambda t: prior(F.one_hot(t, 16).float())  # noqa: E731
        with torch.no_grad():
            tokens = gt.arm.sample(logits_fn, start, generator=gen)
            return model.decode_mean(tokens)

    def nll(x, gen):
        # -log p(x) <= -log P(tokens(x)) - log p(x | tokens(x)): the encoder is
        # deterministic, so this one term of the sum over tokens is a lower bound on p
        with torch.no_grad():
            return (token_nll(prior, tokens_of(x)) + model(x)[0]).mean().item()

    def reconstruct(x):
        return model.decode_mean(tokens_of(x))

    params = gt.count_parameters(model) + gt.count_parameters(prior)
    return SimpleNamespace(
        sample=sample, nll=nll, reconstruct=reconstruct, params=params
    )


def arm(data, generator):
    """Chapter 7's MADE over the pixels, arm_digits.py's recipe."""
    args = arm_digits.build_parser().parse_args([])
    flat = {k: v.flatten(1) for k, v in data.items()}
    model, _ = arm_digits.fit(args, generator, flat["train"], flat["val"])

    def logits_fn(levels):
        return model["head"](model["made"](levels.float() / 8 - 1))

    def sample(n, gen):
        start = torch.zeros(n, 64, dtype=torch.int64)
        with torch.no_grad():
            levels = gt.arm.sample(logits_fn, start, generator=gen)
        return (levels.float() / 8 - 1).view(-1, 1, 8, 8)

    def nll(x, gen):
        with torch.no_grad():
            return arm_digits.nll(model, x.flatten(1)).mean().item()

    return SimpleNamespace(sample=sample, nll=nll, params=gt.count_parameters(model))


def diffusion(data, generator):
    """Chapters 8-9's unconditional DenoisingMLP, v-prediction, cosine, T = 1,000;
    returns the DDPM-1000 and the DDIM-50 ("trailing") samplers of one network."""
    args = diffusion_digits.build_parser().parse_args([])
    kw = dict(beta_schedule="cosine", prediction_type="v_prediction")
    ddpm = gt.diffusion.DDPMScheduler(1000, clip_sample=False, **kw)
    ddim = gt.diffusion.DDIMScheduler(
        1000, clip_sample=False, timestep_spacing="trailing", **kw
    )
    ddim.set_timesteps(50)
    labelled = SimpleNamespace(x=data["train"], y=None)
    model, _ = diffusion_digits.train(
        args, ddpm, generator, conditional=False, data=labelled
    )
    model.eval()

    def sampler(scheduler):
        def sample(n, gen):
            with torch.no_grad():
                shape = (n, 1, 8, 8)
                return gt.diffusion.sample(model, scheduler, shape, generator=gen)

        return sample

    params = gt.count_parameters(model)
    return {
        "ddpm": SimpleNamespace(sample=sampler(ddpm), nll=None, params=params),
        "ddim": SimpleNamespace(sample=sampler(ddim), nll=None, params=params),
    }


# ---------------------------------------------------------------- the scores
def scores(classifier, images, reference, generator) -> dict:
    """FD, IS and precision/recall of N images against the reference features.
    The images are rounded to float16 first, as saved for chapter 10, so that the
    chapter recomputes the same numbers from the saved samples."""
    with torch.no_grad():
        features = classifier.features(images.half().float())
        logits = classifier.head(features)
    index = torch.randperm(len(reference), generator=generator)[: len(images)]
    pr = gt.metrics.precision_recall(reference[index], features, k=3)
    return {
        "fd": gt.metrics.frechet_distance(reference, features).item(),
        "is": gt.metrics.inception_score(logits).item(),
        "precision": pr.precision,
        "recall": pr.recall,
    }


def one_run(seed: int, models, saved: dict | None) -> list[dict]:
    data = {
        split: gt.data.digits(split, order="ordered").x
        for split in ("train", "val", "test")
    }
    held_out = torch.cat([data["val"], data["test"]])
    classifier = gt.metrics.digits_classifier().model
    with torch.no_grad():
        reference = classifier.features(data["train"])
    score_gen = torch.Generator().manual_seed(seed + 3000)
    rows = [
        {"model": "real", "seed": seed, "nll": None, "train_seconds": 0.0,
         "sample_seconds": 0.0, "params": 0,
         **scores(classifier, held_out, reference, score_gen)},
    ]  # fmt: skip
    trained = {}
    for name in models:
        generator = gt.seed_everything(seed)
        start = time.perf_counter()
        if name in ("ddpm", "ddim"):
            if "diffusion" not in trained:
                trained["diffusion"] = diffusion(data, generator)
            entry = trained["diffusion"][name]
        elif name.startswith("gan"):
            entry = gan(
                data, generator, batch_norm=name == "gan", noise=name == "gan_noise"
            )
        else:
            entry = globals()[name](data, generator)
        train_seconds = time.perf_counter() - start
        if name == "ddim" and "ddpm" in models:
            # one network for both samplers: its training was timed under ddpm
            train_seconds = rows[-1]["train_seconds"]
        sample_gen = torch.Generator().manual_seed(seed + 1)
        start = time.perf_counter()
        images = entry.sample(N_SCORED, sample_gen)
        sample_seconds = time.perf_counter() - start
        nll = None
        if entry.nll is not None:
            nll = entry.nll(data["test"], torch.Generator().manual_seed(seed + 2))
        row = {
            "model": name, "seed": seed, "nll": nll,
            "train_seconds": train_seconds, "sample_seconds": sample_seconds,
            "params": entry.params,
            **scores(classifier, images, reference, score_gen),
        }  # fmt: skip
        rows.append(row)
        print(", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in row.items()), flush=True)  # fmt: skip
        if saved is not None:
            extra = entry.sample(N_SAVED - N_SCORED, sample_gen)
            saved["samples"][name] = torch.cat([images, extra]).half()
            if hasattr(entry, "reconstruct"):
                saved["reconstructions"][name] = entry.reconstruct(data["test"]).half()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--json", type=Path, default=RESULTS / "leaderboard.json")
    parser.add_argument("--samples", type=Path, default=None)
    args = parser.parse_args()
    runs, saved = [], None
    for seed in args.seed:
        if seed == args.seed[0] and args.samples is not None:
            saved = {"samples": {}, "reconstructions": {}}
        runs += one_run(seed, args.models, saved)
        if saved is not None:
            args.samples.parent.mkdir(parents=True, exist_ok=True)
            torch.save(saved, args.samples)
            print(f"wrote {args.samples}")
            saved = None
    keys = ("fd", "is", "precision", "recall", "nll", "train_seconds",
            "sample_seconds")  # fmt: skip
    table = {}
    for name in ["real", *args.models]:
        mine = [r for r in runs if r["model"] == name]
        table[name] = {"params": mine[0]["params"]}
        for key in keys:
            values = [r[key] for r in mine if r[key] is not None]
            if values:
                table[name][key] = statistics.fmean(values)
                table[name][key + "_std"] = (
                    statistics.stdev(values) if len(values) > 1 else 0.0
                )
    print(f"\nleaderboard on the digits, N = {N_SCORED}, {len(args.seed)} seed(s), "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    print(f"{'model':>10} {'FD':>7} {'IS':>5} {'prec':>5} {'rec':>5} "
          f"{'NLL':>6} {'train s':>8} {'sample s':>8}")  # fmt: skip
    for name, row in table.items():
        nll = f"{row['nll']:>6.1f}" if "nll" in row else f"{'-':>6}"
        seconds = f"{row['train_seconds']:>8.1f} {row['sample_seconds']:>8.2f}"
        pr = f"{row['precision']:>5.2f} {row['recall']:>5.2f}"
        print(f"{name:>10} {row['fd']:>7.2f} {row['is']:>5.2f} {pr} {nll} {seconds}")
    payload = {
        "n_scored": N_SCORED,
        "models": table,
        "runs": runs,
        "machine": {
            "platform": platform.platform(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Variational autoencoders: the model, its per-example negative ELBO, the IWAE bound.

A `VAE` pairs an encoder, which maps x to the mean and log-variance of the
approximate posterior q(z|x) = N(mean, diag exp(logvar)), with a decoder, which maps
a code z to the parameters of the likelihood p(x|z); the prior is p(z) = N(0, I).
Three likelihoods for data in the model range [-1, 1]: ``"categorical"`` (the
decoder gives K logits per entry, the data's K grey levels, e.g. the digits' 17),
``"bernoulli"`` (one logit per entry; targets (x + 1) / 2 in [0, 1]) and
``"gaussian"`` (the decoder gives the mean; a fixed standard deviation `obs_std`).
`negative_elbo` returns the loss per example with its two terms, `iwae_bound` the
importance-weighted bound on log p(x). `mlp_vae` builds the book's VAE for small
images from `gentorch.nets` pieces.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple, get_args

import torch
from torch import nn

from gentorch._checks import (
    check_choice,
    check_instance,
    check_int,
    check_number,
    check_tensor,
)
from gentorch.distributions import (
    bernoulli_log_prob,
    categorical_log_prob,
    categorical_mean,
    kl_normal_standard,
    normal_log_prob,
    reparameterize,
    standard_normal_log_prob,
)
from gentorch.nets import MLP, DiscretizedLogistic, MLPEncoder
from gentorch.utils import rand, randn

__all__ = [
    "Likelihood",
    "NegativeELBO",
    "Posterior",
    "VAE",
    "iwae_bound",
    "mlp_vae",
    "negative_elbo",
]

Likelihood = Literal["categorical", "bernoulli", "gaussian"]


class Posterior(NamedTuple):
    """The encoder's q(z|x) = N(mean, diag exp(logvar)). Shapes: both (B, d)."""

    mean: torch.Tensor
    logvar: torch.Tensor


class NegativeELBO(NamedTuple):
    """-ELBO(x) = reconstruction + kl, per example, in nats. Shapes: each (B,).

    reconstruction: -log p(x|z) at one z ~ q(z|x) (a one-sample estimate of
    -E_q[log p(x|z)]); kl: KL(q(z|x) || p(z)) in closed form.
    """

    value: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor


class VAE(nn.Module):
    """x -> q(z|x) = N(mean, diag exp(logvar)) -> z -> p(x|z); the prior p(z) = N(0, I).

    Args:
        encoder: maps x ``(B, *shape)`` to (B, 2 * latent_dim): the posterior mean, then
            its log-variance.
        decoder: maps z (B, latent_dim) to the likelihood's parameters: K logits per
            entry ``(B, *shape, K)`` for "categorical", one logit per entry
            ``(B, *shape)`` for "bernoulli", the mean ``(B, *shape)`` for "gaussian".
        latent_dim: d, the size of z.
        likelihood: "categorical", "bernoulli" or "gaussian".
        obs_std: the fixed standard deviation of the "gaussian" likelihood, in data
            units (unused by the others).

    Data are in the model range [-1, 1]. A categorical likelihood with K levels
    reads x as the levels round((x + 1) / 2 * (K - 1)): the digits' x = p / 8 - 1
    gives back their grey levels p = 0..16 with K = 17.
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        *,
        latent_dim: int,
        likelihood: Likelihood = "categorical",
        obs_std: float = 1.0,
    ) -> None:
        super().__init__()
        self.encoder = check_instance("encoder", encoder, nn.Module)
        self.decoder = check_instance("decoder", decoder, nn.Module)
        self.latent_dim = check_int("latent_dim", latent_dim, minimum=1)
        self.likelihood = check_choice("likelihood", likelihood, get_args(Likelihood))
        self.obs_std = check_number("obs_std", obs_std, low=0.0, low_open=True)

    def encode(self, x: torch.Tensor) -> Posterior:
        """q(z|x): the encoder's output split into mean and log-variance."""
        out = self.encoder(x)
        check_tensor("encoder output", out, shape=(len(x), 2 * self.latent_dim))
        mean, logvar = out.chunk(2, dim=1)  # (B, 2d) -> (B, d), (B, d)
        return Posterior(mean, logvar)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The parameters of p(x|z): logits, or the Gaussian mean."""
        check_tensor("z", z, shape=("B", self.latent_dim), floating=True)
        return self.decoder(z)

    def log_likelihood(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per example, summed over the data dimensions, from `decode(z)`.

        Shapes:
            x: ``(B, *shape)``; params: as `decode` returns; output: (B,).
        """
        check_tensor("x", x, floating=True)
        if self.likelihood == "categorical":
            check_tensor("params", params, shape=(*x.shape, None), floating=True)
            top = params.shape[-1] - 1
            levels = ((x + 1) * (top / 2)).round().clamp(0, top).long()
            log_p = categorical_log_prob(levels, params)
        else:
            check_tensor("params", params, shape=x.shape, floating=True)
            if self.likelihood == "bernoulli":
                log_p = bernoulli_log_prob((x + 1) / 2, params)
            else:
                logvar = torch.full_like(params, 2 * math.log(self.obs_std))
                log_p = normal_log_prob(x, params, logvar)
        return log_p.flatten(1).sum(dim=1)

    def mean(self, params: torch.Tensor) -> torch.Tensor:
        """E[x|z] in the model range, from `decode(z)`'s parameters."""
        if self.likelihood == "categorical":
            return categorical_mean(params)
        if self.likelihood == "bernoulli":
            return 2 * torch.sigmoid(params) - 1
        return params

    def draw(
        self, params: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """x ~ p(x|z) in the model range, from `decode(z)`'s parameters."""
        kw = {"generator": generator, "device": params.device, "dtype": params.dtype}
        if self.likelihood == "categorical":
            top = params.shape[-1] - 1
            # inverse-CDF sampling: one uniform number per entry
            cdf = params.softmax(dim=-1).cumsum(dim=-1)
            u = rand(cdf.shape[:-1], **kw).unsqueeze(-1)
            levels = (u > cdf).sum(dim=-1).clamp(max=top)
            return levels.to(params.dtype) * (2 / top) - 1
        if self.likelihood == "bernoulli":
            ones = rand(params.shape, **kw) < torch.sigmoid(params)
            return 2 * ones.to(params.dtype) - 1
        return params + self.obs_std * randn(params.shape, **kw)

    def sample(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        mean: bool = False,
    ) -> torch.Tensor:
        """Generate: z ~ N(0, I), then x ~ p(x|z) (or E[x|z] when `mean` is True).

        Device and dtype follow the model's parameters.
        """
        n = check_int("n", n, minimum=1)
        weight = next(self.decoder.parameters())
        kw = {"generator": generator, "device": weight.device, "dtype": weight.dtype}
        params = self.decode(randn((n, self.latent_dim), **kw))
        return self.mean(params) if mean else self.draw(params, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """E[x|z] at the posterior mean z = mean(x): the VAE as an autoencoder."""
        return self.mean(self.decode(self.encode(x).mean))


def negative_elbo(
    model: VAE, x: torch.Tensor, *, generator: torch.Generator | None = None
) -> NegativeELBO:
    """-ELBO(x) = -log p(x|z) + KL(q(z|x) || p(z)), z = mean + std * eps (one sample).

    The negative evidence lower bound of Kingma & Welling (2014, eq. 10), per
    example: -ELBO(x) >= -log p(x). The reconstruction term is a one-sample estimate,
    the KL is exact (`kl_normal_standard`).

    Shapes:
        x: ``(B, *shape)``; each field of the result: (B,).
    """
    check_instance("model", model, VAE)
    check_tensor("x", x, floating=True)
    mean, logvar = model.encode(x)
    z = reparameterize(mean, logvar, generator=generator)
    reconstruction = -model.log_likelihood(x, model.decode(z))
    kl = kl_normal_standard(mean, logvar)
    return NegativeELBO(reconstruction + kl, reconstruction, kl)


def iwae_bound(
    model: VAE,
    x: torch.Tensor,
    k: int,
    *,
    generator: torch.Generator | None = None,
    chunk_size: int = 100,
) -> torch.Tensor:
    """L_k(x) = log (1/k) sum_i p(x, z_i) / q(z_i|x), z_1..z_k ~ q(z|x) i.i.d.

    The importance-weighted bound (Burda et al. 2016, eq. 8): L_1 is the ELBO,
    E[L_k] <= E[L_{k+1}] <= log p(x), and L_k -> log p(x) as k grows. Returns the
    bound on log p(x) per example, in nats (its negative estimates the NLL). The k
    samples go through the decoder `chunk_size` at a time, to bound memory.

    Shapes:
        x: ``(B, *shape)``; output: (B,).
    """
    check_instance("model", model, VAE)
    check_tensor("x", x, floating=True)
    k = check_int("k", k, minimum=1)
    chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    mean, logvar = model.encode(x)
    log_weights = []
    for start in range(0, k, chunk_size):
        m = min(chunk_size, k - start)
        # m samples per example: (m*B, d), sample-major
        mean_m, logvar_m = mean.repeat(m, 1), logvar.repeat(m, 1)
        z = reparameterize(mean_m, logvar_m, generator=generator)
        log_px_z = model.log_likelihood(
            x.repeat(m, *[1] * (x.ndim - 1)), model.decode(z)
        )
        log_pz = standard_normal_log_prob(z).sum(dim=1)
        log_qz = normal_log_prob(z, mean_m, logvar_m).sum(dim=1)
        log_weights.append((log_px_z + log_pz - log_qz).view(m, len(x)))
    log_w = torch.cat(log_weights)  # (k, B)
    return torch.logsumexp(log_w, dim=0) - math.log(k)


def mlp_vae(
    latent_dim: int,
    *,
    image_size: int,
    channels: int = 1,
    hidden: tuple[int, ...] = (512, 512),
    activation: str = "silu",
    likelihood: Likelihood = "categorical",
    levels: int = 17,
    logistic_components: int | None = 2,
    obs_std: float = 1.0,
) -> VAE:
    """The book's VAE for small images: multilayer perceptrons on the flattened pixels.

    The encoder is an `MLPEncoder` to 2 * latent_dim outputs (mean, log-variance);
    the decoder an `MLP` with the same hidden widths, whose outputs are reshaped to
    the image and read by the likelihood. With ``likelihood="categorical"`` each
    pixel gets `levels` logits: through a `DiscretizedLogistic` head of
    `logistic_components` logistics (an ordinal likelihood: neighbouring grey levels
    share mass), or one free logit per level when `logistic_components` is None.

    Args:
        latent_dim: d, the size of z.
        image_size: height and width of the square images (8 for the digits).
        channels: image channels.
        hidden: widths of the hidden layers of both networks.
        activation: as for `gentorch.nets.MLP`.
        likelihood: "categorical", "bernoulli" or "gaussian".
        levels: K, the grey levels of a categorical likelihood (17 for the digits).
        logistic_components: M, or None for free logits.
        obs_std: the "gaussian" likelihood's standard deviation.
    """
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    image_size = check_int("image_size", image_size, minimum=1)
    channels = check_int("channels", channels, minimum=1)
    check_choice("likelihood", likelihood, get_args(Likelihood))
    encoder = MLPEncoder(
        2 * latent_dim,
        image_size=image_size,
        in_channels=channels,
        hidden=hidden,
        activation=activation,
    )
    shape = (channels, image_size, image_size)
    per_pixel, head = 1, []
    if likelihood == "categorical":
        levels = check_int("levels", levels, minimum=2)
        if logistic_components is None:
            per_pixel = levels
        else:
            m = check_int("logistic_components", logistic_components, minimum=1)
            per_pixel, head = 3 * m, [DiscretizedLogistic(levels, components=m)]
        shape = (*shape, per_pixel)
    mlp = MLP(latent_dim, math.prod(shape), hidden=hidden, activation=activation)
    # (B, prod(shape)) -> (B, C, H, W) or (B, C, H, W, per_pixel)
    decoder = nn.Sequential(*mlp.net, nn.Unflatten(1, shape), *head)
    return VAE(
        encoder,
        decoder,
        latent_dim=latent_dim,
        likelihood=likelihood,
        obs_std=obs_std,
    )

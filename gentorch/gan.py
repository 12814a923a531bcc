"""Generative adversarial networks: losses on logits, small G and D, one step each.

A discriminator D returns *logits* l = log(D / (1 - D)), never probabilities, so every
loss is a softplus of a logit and stays finite when D is sure: -log sigmoid(l) =
softplus(-l) and -log(1 - sigmoid(l)) = softplus(l). Losses are per example, shape
(B,); the batch mean happens in the training step. Generators map noise z (and, when
conditional, a class label y) to data; discriminators map data (and y) to one logit per
example, or, for `PatchDiscriminator`, to a map of logits, one per image patch.
`discriminator_step` and `generator_step` are the two halves of Goodfellow et al.'s
(2014) Algorithm 1 written out once; the chapters write the same loop themselves first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple, get_args

import torch
import torch.nn.functional as F
from torch import nn

from gentorch._checks import check_choice, check_instance, check_int, check_tensor
from gentorch.nets import MLP, ConvDecoder, ConvEncoder
from gentorch.nets.images import ImageSize
from gentorch.nets.mlp import _widths
from gentorch.utils import rand, randn

__all__ = [
    "ConvDiscriminator",
    "ConvGenerator",
    "DiscriminatorLoss",
    "GeneratorLoss",
    "MLPDiscriminator",
    "MLPGenerator",
    "MinibatchStd",
    "PatchDiscriminator",
    "StepStats",
    "discriminator_loss",
    "discriminator_step",
    "generator_loss",
    "generator_step",
    "gradient_penalty",
    "pack",
    "spectral_normalize",
]

DiscriminatorLoss = Literal["standard", "wasserstein", "hinge"]
GeneratorLoss = Literal["non_saturating", "saturating", "wasserstein", "hinge"]


def _per_example(loss: torch.Tensor) -> torch.Tensor:
    """(B, ...) -> (B,): a map of patch losses becomes its mean, one value per image."""
    return loss.flatten(1).mean(dim=1) if loss.ndim > 1 else loss


def _check_logits(name: str, logits: torch.Tensor) -> torch.Tensor:
    check_tensor(name, logits, floating=True)
    if logits.ndim == 0:
        raise ValueError(f"{name} must have shape (B,) or (B, ...); got a scalar")
    return logits


def discriminator_loss(
    logits_real: torch.Tensor,
    logits_fake: torch.Tensor,
    *,
    kind: DiscriminatorLoss = "standard",
) -> torch.Tensor:
    """The discriminator's loss per example, to be minimised.

    * ``"standard"``: L_D = H(1, D(x)) + H(0, D(G(z))) = softplus(-l_real) +
      softplus(l_fake), minus the value function V of Goodfellow et al. (2014, eq. 1).
    * ``"wasserstein"``: l_fake - l_real, the WGAN critic (Arjovsky et al. 2017);
      add `gradient_penalty` (Gulrajani et al. 2017) to keep the critic 1-Lipschitz.
    * ``"hinge"``: relu(1 - l_real) + relu(1 + l_fake) (Lim & Ye 2017).

    Args:
        logits_real: D's logits on real data.
        logits_fake: D's logits on generated data, one per real example.
        kind: ``"standard"``, ``"wasserstein"`` or ``"hinge"``.

    Returns:
        Loss per example in nats for ``"standard"``; a map of patch logits is averaged
        over its patches.

    Shapes:
        logits_real, logits_fake: (B,) or (B, ...) (a PatchGAN map); output: (B,).
    """
    _check_logits("logits_real", logits_real)
    _check_logits("logits_fake", logits_fake)
    if logits_real.shape != logits_fake.shape:
        raise ValueError(
            "logits_real and logits_fake must have the same shape (one fake per real "
            f"example); got {tuple(logits_real.shape)} and {tuple(logits_fake.shape)}"
        )
    check_choice("kind", kind, get_args(DiscriminatorLoss))
    if kind == "standard":
        loss = F.softplus(-logits_real) + F.softplus(logits_fake)
    elif kind == "wasserstein":
        loss = logits_fake - logits_real
    else:
        loss = F.relu(1 - logits_real) + F.relu(1 + logits_fake)
    return _per_example(loss)


def generator_loss(
    logits_fake: torch.Tensor, *, kind: GeneratorLoss = "non_saturating"
) -> torch.Tensor:
    """The generator's loss per example, to be minimised.

    * ``"non_saturating"``: H(1, D(G(z))) = -log D(G(z)) = softplus(-l), the
      heuristic of Goodfellow et al. (2014, sec. 3); steep where D rejects the fakes.
    * ``"saturating"``: log(1 - D(G(z))) = -softplus(l), the minimax game itself;
      flat where D rejects the fakes.
    * ``"wasserstein"`` and ``"hinge"``: -l (Arjovsky et al. 2017; Lim & Ye 2017).

    Args:
        logits_fake: D's logits on generated data.
        kind: ``"non_saturating"``, ``"saturating"``, ``"wasserstein"`` or ``"hinge"``.

    Returns:
        Loss per example (nats for the first two); patch maps are averaged.

    Shapes:
        logits_fake: (B,) or (B, ...); output: (B,).
    """
    _check_logits("logits_fake", logits_fake)
    check_choice("kind", kind, get_args(GeneratorLoss))
    if kind == "non_saturating":
        loss = F.softplus(-logits_fake)
    elif kind == "saturating":
        loss = -F.softplus(logits_fake)
    else:
        loss = -logits_fake
    return _per_example(loss)


def gradient_penalty(
    D: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP penalty (||grad_x D(x_hat)||_2 - 1)^2 (Gulrajani et al. 2017, eq. 3).

    x_hat = u x_real + (1 - u) x_fake with u ~ U[0, 1] per example. The penalty is
    differentiable in D's parameters (``create_graph=True``); multiply its mean by the
    weight lambda (10 in the paper) and add it to the critic's loss.

    Args:
        D: the critic, any callable from data to logits (for a conditional critic,
            ``lambda x: D(x, labels)``).
        real: real data.
        fake: generated data (no gradient flows back into G).
        generator: source of randomness for u.

    Returns:
        The penalty per example.

    Shapes:
        real, fake: (B, ...), the same; output: (B,).
    """
    check_tensor("real", real, floating=True)
    check_tensor("fake", fake, floating=True)
    if real.shape != fake.shape or real.ndim < 2:
        raise ValueError(
            "real and fake must have the same shape (B, ...) with at least one data "
            f"dimension; got {tuple(real.shape)} and {tuple(fake.shape)}"
        )
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    u = rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    x_hat = (u * real + (1 - u) * fake).detach().requires_grad_(True)
    logits = D(x_hat)
    (grad,) = torch.autograd.grad(logits.sum(), x_hat, create_graph=True)
    norms = grad.reshape(grad.shape[0], -1).norm(dim=1)  # (B, ...) -> (B,)
    return (norms - 1) ** 2


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """PacGAN packing (Lin et al. 2018): m consecutive examples become one.

    The discriminator then judges m samples jointly, so a generator that repeats
    itself is easier to spot. Points (B, d) become (B / m, m d); images (B, C, H, W)
    become (B / m, m C, H, W), the m images stacked along the channels. Build the
    discriminator for the packed shape, e.g. ``MLPDiscriminator((m * d,))``.

    Args:
        x: a batch whose size is a multiple of `m`.
        m: examples per pack, >= 1 (1 leaves `x` as it is).

    Shapes:
        x: (B, F, ...); output: (B / m, m F, ...).
    """
    check_tensor("x", x)
    m = check_int("m", m, minimum=1)
    if x.ndim < 2 or x.shape[0] % m:
        raise ValueError(
            f"x must have shape (B, F, ...) with B a multiple of m={m}; "
            f"got {tuple(x.shape)}"
        )
    # (B, F, ...) -> (B / m, m * F, ...): consecutive examples side by side
    return x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:])


class MinibatchStd(nn.Module):
    """Append the batch's mean standard deviation as one more feature (Karras et al.
    2018, sec. 3).

    The standard deviation of every feature over the batch, averaged over features
    (and positions), is added as a constant extra feature (or channel): a batch of
    near-identical fakes shows a telltale small value, which lets the discriminator
    penalise a collapsed generator.

    Shapes:
        x: (B, F) -> (B, F + 1), or (B, C, H, W) -> (B, C + 1, H, W); B >= 2.
    """

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x, floating=True)
        if x.ndim < 2 or x.shape[0] < 2:
            raise ValueError(
                f"x must have shape (B, F, ...) with B >= 2; got {tuple(x.shape)}"
            )
        std = (x.var(dim=0, unbiased=False) + self.eps).sqrt().mean()
        extra = std.expand(x.shape[0], 1, *x.shape[2:])  # (B, 1, ...)
        return torch.cat([x, extra], dim=1)


def spectral_normalize(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) of every linear and conv layer.

    Each weight W is divided by an estimate of its largest singular value, kept up to
    date by one power iteration per forward pass in training mode (torch's
    `spectral_norm` parametrization), which bounds each layer's Lipschitz constant
    by about 1. Applied in place.

    Args:
        module: a discriminator (or any module).

    Returns:
        `module`, with its `nn.Linear` and `nn.Conv2d` weights parametrized.
    """
    check_instance("module", module, nn.Module, what="torch.nn.Module")
    for layer in list(module.modules()):
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.utils.parametrizations.spectral_norm(layer)
    return module


class _Generator(nn.Module):
    """x = G(z), or G(z, y) = body([z, embed(y)]) when `num_classes` is set."""

    def __init__(self, latent_dim: int, num_classes: int | None, label_dim: int):
        super().__init__()
        self.latent_dim = check_int("latent_dim", latent_dim, minimum=1)
        self.num_classes = _check_classes(num_classes)
        label_dim = check_int("label_dim", label_dim, minimum=1)
        self.label_dim = label_dim if self.num_classes else 0
        if self.num_classes:
            self.embed = nn.Embedding(self.num_classes, label_dim)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None):
        check_tensor("z", z, shape=("B", self.latent_dim), floating=True)
        if self.num_classes:
            labels = _check_labels(labels, z.shape[0], self.num_classes)
            # (B, latent_dim) and (B, label_dim) -> (B, latent_dim + label_dim)
            z = torch.cat([z, self.embed(labels)], dim=1)
        elif labels is not None:
            raise ValueError("labels must be None: this generator is unconditional")
        return self.body(z)


class _Discriminator(nn.Module):
    """logit = head(h) + <embed(y), h> with features h = body(x) (Miyato & Koyama 2018).

    The first term judges realism, the second (present when `num_classes` is set)
    whether x matches its label y: the projection discriminator.
    """

    def __init__(self, feature_dim: int, num_classes: int | None):
        super().__init__()
        self.num_classes = _check_classes(num_classes)
        self.head = nn.Linear(feature_dim, 1)
        if self.num_classes:
            self.embed = nn.Embedding(self.num_classes, feature_dim)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None):
        check_tensor("x", x, floating=True)
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"x must have shape (B, {', '.join(map(str, self.data_shape))}); "
                f"got {tuple(x.shape)}"
            )
        h = self.body(x)  # (B, feature_dim)
        logits = self.head(h).squeeze(1)  # (B, 1) -> (B,)
        if self.num_classes:
            labels = _check_labels(labels, x.shape[0], self.num_classes)
            logits = logits + (self.embed(labels) * h).sum(dim=1)
        elif labels is not None:
            raise ValueError("labels must be None: this discriminator is unconditional")
        return logits


def _check_classes(num_classes: int | None) -> int | None:
    return (
        None
        if num_classes is None
        else check_int("num_classes", num_classes, minimum=2)
    )


def _check_labels(labels, batch: int, num_classes: int) -> torch.Tensor:
    if labels is None:
        raise ValueError(
            f"labels must be given: this network is conditional on "
            f"{num_classes} classes"
        )
    check_tensor("labels", labels, shape=(batch,))
    if labels.dtype not in (torch.int64, torch.int32):
        raise TypeError(
            f"labels must be an int64 or int32 tensor; got dtype {labels.dtype}"
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    return labels


class MLPGenerator(_Generator):
    """x = G(z) (or G(z, y)): an MLP from noise to data of any shape.

    Args:
        latent_dim: size of the noise z.
        data_shape: shape of one example, e.g. ``(2,)`` for points or
            ``(1, 8, 8)`` for digits.
        hidden: hidden-layer widths.
        output_activation: None (points) or ``"tanh"`` (images in [-1, 1]).
        norm: None, or ``"batch"`` for batch normalisation in the hidden layers.
        num_classes: set it for a conditional generator G(z, y).
        label_dim: size of the label embedding concatenated to z.

    Shapes:
        z: (B, latent_dim), labels: (B,) int64; output: ``(B, *data_shape)``.
    """

    def __init__(
        self,
        latent_dim: int,
        data_shape: Sequence[int],
        *,
        hidden: Sequence[int] = (128, 128),
        output_activation: Literal[None, "tanh"] = None,
        norm: Literal[None, "batch"] = None,
        num_classes: int | None = None,
        label_dim: int = 16,
    ) -> None:
        super().__init__(latent_dim, num_classes, label_dim)
        self.data_shape = _widths("data_shape", data_shape, allow_empty=False)
        check_choice("output_activation", output_activation, (None, "tanh"))
        out_dim = int(torch.Size(self.data_shape).numel())
        self.body = nn.Sequential(
            MLP(
                self.latent_dim + self.label_dim,
                out_dim,
                hidden=hidden,
                output_activation=output_activation,
                norm=norm,
            ),
            nn.Unflatten(1, self.data_shape),  # (B, D) -> (B, *data_shape)
        )


class MLPDiscriminator(_Discriminator):
    """Logit of "x is real" (and "x matches y"): an MLP with leaky ReLUs.

    Args:
        data_shape: shape of one example, e.g. ``(2,)`` or ``(1, 8, 8)``.
        hidden: hidden-layer widths; the last is the feature size.
        num_classes: set it for a conditional (projection) discriminator D(x, y).
        dropout: drop probability after each hidden activation but the last, which
            makes D's job noisier and keeps it from memorising the training set.
        pack: PacGAN's m (`pack`): D judges m consecutive examples jointly and
            returns one logit per pack (unconditional only).
        minibatch_std: append `MinibatchStd`'s feature before the last hidden layer
            (before the first when there is only one).

    Shapes:
        x: ``(B, *data_shape)``, labels: (B,) int64; output: (B / pack,) logits.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        *,
        hidden: Sequence[int] = (128, 128),
        num_classes: int | None = None,
        dropout: float = 0.0,
        pack: int = 1,
        minibatch_std: bool = False,
    ) -> None:
        # the last hidden width is the feature size of the realism head
        hidden = _widths("hidden", hidden, allow_empty=False)
        super().__init__(hidden[-1], num_classes)
        self.data_shape = _widths("data_shape", data_shape, allow_empty=False)
        self.pack = check_int("pack", pack, minimum=1)
        check_instance("minibatch_std", minibatch_std, bool, what="a bool")
        if self.pack > 1 and self.num_classes:
            raise ValueError("pack > 1 needs an unconditional D (num_classes=None)")
        width = self.pack * int(torch.Size(self.data_shape).numel())
        # (B, *data_shape) -> (B, D), then PacGAN's (B, D) -> (B / m, m D)
        layers: list[nn.Module] = [nn.Flatten()]
        if self.pack > 1:
            layers.append(_Pack(self.pack))
        if minibatch_std and len(hidden) > 1:
            layers.append(_leaky_mlp(width, hidden[:-1], dropout))
            width = hidden[-2]
        if minibatch_std:
            layers.append(MinibatchStd())
            width, hidden = width + 1, hidden[-1:]
        layers.append(_leaky_mlp(width, hidden, dropout))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None):
        if x.ndim >= 1 and x.shape[0] % self.pack:
            raise ValueError(
                f"x must hold a multiple of pack={self.pack} examples; "
                f"got {tuple(x.shape)}"
            )
        return super().forward(x, labels)


class _Pack(nn.Module):
    """`pack` as a layer: (B, D) -> (B / m, m D)."""

    def __init__(self, m: int) -> None:
        super().__init__()
        self.m = m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pack(x, self.m)


def _leaky_mlp(in_dim: int, hidden: tuple[int, ...], dropout: float) -> MLP:
    """Hidden layers of a discriminator: leaky ReLU after each, the last included."""
    return MLP(
        in_dim,
        hidden[-1],
        hidden=hidden[:-1],
        activation="leaky_relu",
        output_activation="leaky_relu",
        dropout=dropout,
    )


class ConvGenerator(_Generator):
    """x = G(z) (or G(z, y)): `ConvDecoder`'s transposed convolutions, tanh output.

    Args:
        latent_dim: size of the noise z.
        image_size: 8 (digits) or 28 (MNIST).
        channels: input channels of each transposed convolution, widest first.
        num_classes: set it for a conditional generator G(z, y).
        label_dim: size of the label embedding concatenated to z.

    Shapes:
        z: (B, latent_dim), labels: (B,); output: (B, 1, image_size, image_size).
    """

    def __init__(
        self,
        latent_dim: int,
        *,
        image_size: ImageSize = 8,
        channels: Sequence[int] = (128, 64),
        num_classes: int | None = None,
        label_dim: int = 16,
    ) -> None:
        super().__init__(latent_dim, num_classes, label_dim)
        self.body = ConvDecoder(
            self.latent_dim + self.label_dim, image_size=image_size, channels=channels
        )
        self.data_shape = (1, self.body.image_size, self.body.image_size)


class ConvDiscriminator(_Discriminator):
    """Logit of "x is real" (and "x matches y") from strided convolutions.

    Args:
        image_size: 8 (digits) or 28 (MNIST).
        channels: output channels of each 4x4, stride-2 convolution.
        feature_dim: size of the feature vector h the head reads.
        num_classes: set it for a conditional (projection) discriminator D(x, y).

    Shapes:
        x: (B, 1, image_size, image_size), labels: (B,); output: (B,) logits.
    """

    def __init__(
        self,
        *,
        image_size: ImageSize = 8,
        channels: Sequence[int] = (64, 128),
        feature_dim: int = 128,
        num_classes: int | None = None,
    ) -> None:
        super().__init__(check_int("feature_dim", feature_dim, minimum=1), num_classes)
        encoder = ConvEncoder(
            feature_dim,
            image_size=image_size,
            channels=channels,
            activation="leaky_relu",
        )
        self.body = nn.Sequential(encoder, nn.LeakyReLU(0.2))
        self.data_shape = (1, encoder.image_size, encoder.image_size)


class PatchDiscriminator(nn.Module):
    """A fully convolutional judge: one logit per overlapping patch (Isola et al. 2017).

    Each entry of `channels` is a 4x4 convolution with stride 2 and padding 1 and a
    leaky ReLU (halving the size); a final 3x3 convolution with stride 1 and padding 1
    gives one logit per position. Logit (i, j) sees only a `receptive_field` x
    `receptive_field` window of the input, and the parameter count does not depend on
    the image size.

    Args:
        in_channels: input channels.
        channels: output channels of the strided convolutions.

    Shapes:
        x: (B, in_channels, H, W) with H, W divisible by 2**len(channels);
        output: (B, H / 2**len(channels), W / 2**len(channels)) logits.
    """

    def __init__(self, in_channels: int = 1, *, channels: Sequence[int] = (32, 64)):
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        check_instance("channels", channels, (tuple, list), what="tuple of ints")
        widths = [self.in_channels] + [
            check_int("channels entries", c, minimum=1) for c in channels
        ]
        if len(widths) < 2:
            raise ValueError("channels must have at least one entry")
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [
                nn.Conv2d(width_in, width_out, 4, stride=2, padding=1),
                nn.LeakyReLU(0.2),
            ]
        layers.append(nn.Conv2d(widths[-1], 1, 3, stride=1, padding=1))
        self.net = nn.Sequential(*layers)
        self.downsampling = 2 ** len(channels)

    @property
    def receptive_field(self) -> int:
        """Side of the input window one output logit sees: r += (k - 1) * jump."""
        size, jump = 1, 1
        for layer in self.net:
            if isinstance(layer, nn.Conv2d):
                size += (layer.kernel_size[0] - 1) * jump
                jump *= layer.stride[0]
        return size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x, shape=("B", self.in_channels, None, None), floating=True)
        height, width = x.shape[2:]
        if (
            not height
            or not width
            or height % self.downsampling
            or width % self.downsampling
        ):
            raise ValueError(
                f"x's height and width must be positive multiples of "
                f"{self.downsampling}; "
                f"got {tuple(x.shape[2:])}"
            )
        return self.net(x).squeeze(1)  # (B, 1, h, w) -> (B, h, w)


class StepStats(NamedTuple):
    """What one training step measured: its loss and D's mean outputs."""

    #: the batch-mean loss that was minimised
    loss: float
    #: mean D(x) = sigmoid(logit) on the real batch (NaN in a generator step)
    d_real: float
    #: mean D(G(z)) on the generated batch
    d_fake: float


def _device_dtype(module: nn.Module) -> tuple[torch.device, torch.dtype]:
    parameter = next(module.parameters())
    return parameter.device, parameter.dtype


def discriminator_step(
    G: nn.Module,
    D: nn.Module,
    optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    *,
    labels: torch.Tensor | None = None,
    kind: DiscriminatorLoss = "standard",
    gp_weight: float = 0.0,
    generator: torch.Generator | None = None,
) -> StepStats:
    """One ascent step on V for D (Algorithm 1, inner loop), G held fixed.

    1. Draw z and make fakes without a graph through G (G is not trained here).
    2. Minimise the batch mean of `discriminator_loss` (+ gp_weight x penalty).

    Args:
        G: generator with a `latent_dim` attribute, called as G(z) or G(z, labels).
        D: discriminator, called as D(x) or D(x, labels).
        optimizer: optimizer over D's parameters.
        real: a batch of real data; fakes are made one per real example.
        labels: class labels of `real`, for conditional networks (the fakes get the
            same labels).
        kind: the `discriminator_loss` kind.
        gp_weight: weight of `gradient_penalty` (0 for none; 10 for WGAN-GP).
        generator: source of randomness for z (and the penalty).

    Returns:
        `StepStats` of this step.
    """
    extra = () if labels is None else (labels,)
    z = randn(
        (real.shape[0], G.latent_dim),
        generator=generator,
        device=real.device,
        dtype=real.dtype,
    )
    with torch.no_grad():
        fake = G(z, *extra)
    logits_real, logits_fake = D(real, *extra), D(fake, *extra)
    loss = discriminator_loss(logits_real, logits_fake, kind=kind).mean()
    if gp_weight:
        penalty = gradient_penalty(
            lambda x: D(x, *extra), real, fake, generator=generator
        )
        loss = loss + gp_weight * penalty.mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    d_real = torch.sigmoid(logits_real.detach()).mean().item()
    return StepStats(
        loss.item(), d_real, torch.sigmoid(logits_fake.detach()).mean().item()
    )


def generator_step(
    G: nn.Module,
    D: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    *,
    labels: torch.Tensor | None = None,
    kind: GeneratorLoss = "non_saturating",
    generator: torch.Generator | None = None,
) -> StepStats:
    """One descent step on the generator's loss (Algorithm 1, outer loop), D fixed.

    The gradient flows back *through* D into G, but D's parameters are frozen
    (``requires_grad_(False)``) for the step, so only G changes.

    Args:
        G: generator with a `latent_dim` attribute.
        D: discriminator.
        optimizer: optimizer over G's parameters.
        batch_size: number of fakes.
        labels: labels for a conditional G and D, shape (batch_size,).
        kind: the `generator_loss` kind.
        generator: source of randomness for z.

    Returns:
        `StepStats` of this step (d_real is NaN).
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    device, dtype = _device_dtype(G)
    extra = () if labels is None else (labels,)
    z = randn(
        (batch_size, G.latent_dim), generator=generator, device=device, dtype=dtype
    )
    frozen = [(p, p.requires_grad) for p in D.parameters()]
    D.requires_grad_(False)
    try:
        logits_fake = D(G(z, *extra), *extra)
        loss = generator_loss(logits_fake, kind=kind).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    finally:
        for parameter, requires_grad in frozen:
            parameter.requires_grad_(requires_grad)
    d_fake = torch.sigmoid(logits_fake.detach()).mean().item()
    return StepStats(loss.item(), float("nan"), d_fake)

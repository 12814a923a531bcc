"""Time-conditioned denoisers: a network f_theta(x_t, t) with the data's shape out.

A diffusion model trains one network for every noise level, so the network is told
the timestep t: a sinusoidal embedding of t, passed through a small MLP, is added
inside every hidden layer (Ho et al. 2020, appendix B). An optional class label adds
a learned embedding to the time embedding; label ``num_classes`` stands for "no
label", the null class of classifier-free guidance (Ho & Salimans 2022). Both
networks start with a zero output layer, so an untrained model predicts 0.

* `DenoisingMLP`: for 2-D points and for small images flattened to vectors (the
  8x8 digits on a CPU).
* `NoisyClassifier`: the same MLP body with class logits out, the noise-aware
  classifier of classifier guidance.
* `UNet`: a small convolutional UNet (residual blocks with group normalisation, one
  skip connection per resolution, no attention) for images, e.g. MNIST on a GPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gentorch._checks import check_int, check_number, check_tensor
from gentorch.nets.embedding import SinusoidalEmbedding
from gentorch.nets.mlp import _widths

__all__ = ["DenoisingMLP", "NoisyClassifier", "UNet"]


class _TimeEmbedding(nn.Module):
    """emb(t, y) = MLP(sinusoidal(t)) + E[y]: the conditioning vector of a denoiser."""

    def __init__(self, dim: int, num_classes: int | None) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.net = nn.Sequential(
            SinusoidalEmbedding(dim),
            nn.Linear(dim, dim),
            nn.SiLU(),
            nn.Linear(dim, dim),
        )
        # one row per class and a last row for "no label"
        self.classes = None
        if num_classes is not None:
            self.classes = nn.Embedding(num_classes + 1, dim)

    def forward(
        self, t: torch.Tensor | int, batch: int, class_labels: torch.Tensor | None
    ) -> torch.Tensor:
        weight = self.net[1].weight
        device = weight.device
        if isinstance(t, int) and not isinstance(t, bool):
            t = torch.tensor(t, device=device)
        check_tensor("t", t)
        if t.dtype == torch.bool or t.is_complex() or t.ndim > 1:
            raise ValueError(
                f"t must be an int, a 0-d tensor or a (B,) tensor of timesteps; "
                f"got dtype {t.dtype}, shape {tuple(t.shape)}"
            )
        if t.ndim == 1 and t.shape[0] != batch:
            raise ValueError(
                f"t must have shape ({batch},) or (); got {tuple(t.shape)}"
            )
        # timesteps in the parameters' dtype: float32 (or float64) sinusoids
        emb = self.net(t.to(device, weight.dtype).expand(batch))  # (B, dim)
        if self.classes is None:
            if class_labels is not None:
                raise ValueError(
                    "class_labels given, but the network was built with "
                    "num_classes=None; build it with num_classes to condition on labels"
                )
            return emb
        if class_labels is None:
            # the null label: a conditional network used unconditionally
            class_labels = torch.full((batch,), self.num_classes, device=device)
        check_tensor("class_labels", class_labels, shape=(batch,))
        if class_labels.dtype != torch.int64:
            raise TypeError(f"class_labels must be int64; got {class_labels.dtype}")
        if class_labels.min() < 0 or class_labels.max() > self.num_classes:
            raise ValueError(
                f"class_labels must lie in 0..{self.num_classes} (num_classes is "
                f"the null label); got values from {class_labels.min().item()} to "
                f"{class_labels.max().item()}"
            )
        return emb + self.classes(class_labels.to(device))


def _check_num_classes(num_classes: int | None) -> int | None:
    if num_classes is None:
        return None
    return check_int("num_classes", num_classes, minimum=1)


class DenoisingMLP(nn.Module):
    """h_{l+1} = SiLU(W_l h_l + b_l + P_l emb(t, y)), output W_L h_L + b_L.

    An MLP whose every hidden layer adds a linear projection of the time (and
    label) embedding. Inputs of any shape (B, ...) with ``dim`` numbers per example
    are flattened, and the output takes the input's shape: the same network works
    on 2-D points (B, 2) and on 8x8 images (B, 1, 8, 8) with ``dim=64``.

    Args:
        dim: numbers per example (2 for points, 64 for 8x8 images).
        hidden: widths of the hidden layers.
        time_dim: size of the time embedding (even).
        num_classes: None (unconditional), or the number of class labels; label
            ``num_classes`` is then the null label, and is used when no labels are
            given.
        dropout: drop probability after each hidden activation, in [0, 1).

    Shapes:
        x: (B, ...) with dim numbers per example; t: (B,), () or an int;
        class_labels: (B,) int64 or None; output: x's shape.
    """

    def __init__(
        self,
        dim: int,
        *,
        hidden: Sequence[int] = (256, 256, 256),
        time_dim: int = 128,
        num_classes: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.dim = check_int("dim", dim, minimum=1)
        hidden = _widths("hidden", hidden, allow_empty=False)
        dropout = check_number("dropout", dropout, low=0.0, high=1.0, high_open=True)
        self.time_embedding = _TimeEmbedding(
            check_int("time_dim", time_dim, minimum=2), _check_num_classes(num_classes)
        )
        widths = (self.dim, *hidden)
        self.layers = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.time_projections = nn.ModuleList(nn.Linear(time_dim, b) for b in hidden)
        self.activation = nn.SiLU()
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden[-1], self.dim)
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor | int,
        class_labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return self.output(self._hidden(x, t, class_labels)).view_as(x)

    def _hidden(self, x, t, class_labels) -> torch.Tensor:
        """The last hidden layer, (B, hidden[-1])."""
        check_tensor("x", x, floating=True)
        if x.ndim < 2 or x[0].numel() != self.dim:
            raise ValueError(
                f"x must have shape (B, ...) with dim={self.dim} numbers per "
                f"example; got {tuple(x.shape)}"
            )
        emb = self.time_embedding(t, x.shape[0], class_labels)  # (B, time_dim)
        h = x.flatten(1)  # (B, ...) -> (B, dim)
        for layer, projection in zip(self.layers, self.time_projections, strict=True):
            h = self.dropout(self.activation(layer(h) + projection(emb)))
        return h


class NoisyClassifier(DenoisingMLP):
    """logits = W h_L(x_t, t) + b: a classifier of noisy data x_t, told the timestep.

    The classifier of classifier guidance (Dhariwal & Nichol 2021): trained on x_t
    = `add_noise`(x_0, eps, t) at every t, so its gradient grad_x log p(y | x_t, t)
    means something at every noise level. The body is `DenoisingMLP`'s (the time
    embedding added in every hidden layer); only the output layer differs.

    Args:
        dim: numbers per example (64 for 8x8 images).
        num_classes: the number of classes (logits out).
        hidden, time_dim, dropout: as for `DenoisingMLP`.

    Shapes:
        x: (B, ...) with dim numbers per example; t: (B,), () or an int;
        output: (B, num_classes) logits.
    """

    def __init__(
        self,
        dim: int,
        num_classes: int,
        *,
        hidden: Sequence[int] = (256, 256),
        time_dim: int = 128,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(dim, hidden=hidden, time_dim=time_dim, dropout=dropout)
        self.num_classes = check_int("num_classes", num_classes, minimum=2)
        self.output = nn.Linear(self.layers[-1].out_features, self.num_classes)

    def forward(self, x: torch.Tensor, t: torch.Tensor | int) -> torch.Tensor:
        return self.output(self._hidden(x, t, None))


class _ResBlock(nn.Module):
    """x + F(x, emb): two 3x3 convolutions, the embedding added between them."""

    def __init__(
        self, c_in: int, c_out: int, emb_dim: int, groups: int, dropout: float
    ) -> None:
        super().__init__()
        self.in_layers = nn.Sequential(
            nn.GroupNorm(groups, c_in), nn.SiLU(), nn.Conv2d(c_in, c_out, 3, padding=1)
        )
        self.emb = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, c_out))
        self.out_layers = nn.Sequential(
            nn.GroupNorm(groups, c_out),
            nn.SiLU(),
            nn.Dropout(dropout),
            nn.Conv2d(c_out, c_out, 3, padding=1),
        )
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        # (B, emb_dim) -> (B, c_out, 1, 1), added at every pixel
        h = self.in_layers(x) + self.emb(emb)[:, :, None, None]
        return self.skip(x) + self.out_layers(h)


class UNet(nn.Module):
    """A small UNet f_theta(x_t, t[, y]) for square images (Ronneberger et al. 2015).

    One residual block per resolution on the way down, one in the middle, and one
    per resolution on the way up, each fed the skip connection of its resolution;
    a strided convolution halves the size between levels and nearest-neighbour
    upsampling with a convolution doubles it. This is the shape of Ho et al.'s
    (2020) network, much smaller: fewer channels, one block per level, no
    self-attention.

    Args:
        image_size: height and width of the input; it must halve evenly once per
            level after the first (8 and 28 both work with two levels).
        in_channels: image channels (1 for digits and MNIST).
        channels: channels per level, each a multiple of `groups`.
        num_classes: None, or the number of class labels (label ``num_classes``
            is the null label, used when no labels are given).
        dropout: dropout inside each residual block, in [0, 1).
        groups: groups of each `GroupNorm`.

    Shapes:
        x: (B, in_channels, image_size, image_size); t: (B,), () or an int;
        class_labels: (B,) int64 or None; output: x's shape.
    """

    def __init__(
        self,
        *,
        image_size: int,
        in_channels: int = 1,
        channels: Sequence[int] = (64, 128),
        num_classes: int | None = None,
        dropout: float = 0.0,
        groups: int = 8,
    ) -> None:
        super().__init__()
        self.image_size = check_int("image_size", image_size, minimum=1)
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        channels = _widths("channels", channels, allow_empty=False)
        groups = check_int("groups", groups, minimum=1)
        dropout = check_number("dropout", dropout, low=0.0, high=1.0, high_open=True)
        if any(c % groups for c in channels):
            raise ValueError(
                f"channels must be multiples of groups={groups}; got {channels}"
            )
        halvings = len(channels) - 1
        if image_size % 2**halvings:
            raise ValueError(
                f"image_size={image_size} must be divisible by 2**(len(channels) - 1)"
                f" = {2**halvings} (each level after the first halves it)"
            )
        emb_dim = 4 * channels[0]
        self.time_embedding = _TimeEmbedding(emb_dim, _check_num_classes(num_classes))
        self.stem = nn.Conv2d(in_channels, channels[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        c_prev = channels[0]
        for i, c in enumerate(channels):
            self.down.append(_ResBlock(c_prev, c, emb_dim, groups, dropout))
            if i < halvings:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
            c_prev = c
        self.middle = _ResBlock(c_prev, c_prev, emb_dim, groups, dropout)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i, c in reversed(list(enumerate(channels))):
            # input: the previous level's output and this level's skip connection
            self.up.append(_ResBlock(c_prev + c, c, emb_dim, groups, dropout))
            c_prev = c
            if i > 0:
                self.upsample.append(nn.Conv2d(c, channels[i - 1], 3, padding=1))
                c_prev = channels[i - 1]
        self.output = nn.Sequential(
            nn.GroupNorm(groups, channels[0]),
            nn.SiLU(),
            nn.Conv2d(channels[0], in_channels, 3, padding=1),
        )
        nn.init.zeros_(self.output[-1].weight)
        nn.init.zeros_(self.output[-1].bias)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor | int,
        class_labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        size = self.image_size
        check_tensor("x", x, shape=("B", self.in_channels, size, size), floating=True)
        emb = self.time_embedding(t, x.shape[0], class_labels)  # (B, emb_dim)
        h = self.stem(x)
        skips = []
        for i, block in enumerate(self.down):
            h = block(h, emb)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)  # (B, C, s, s) -> (B, C, s/2, s/2)
        h = self.middle(h, emb)
        for i, block in enumerate(self.up):
            # (B, C, s, s) and (B, C', s, s) -> (B, C + C', s, s)
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
            if i < len(self.upsample):
                h = nn.functional.interpolate(h, scale_factor=2.0, mode="nearest")
                h = self.upsample[i](h)
        return self.output(h)

"""Vector quantization: a codebook, nearest-code lookup, the straight-through gradient.

`VectorQuantizer` replaces each channel-last vector z_e (..., dim) of an encoder's
output by its nearest codebook vector e_k, k = argmin_j ||z_e - e_j||^2 (van den Oord
et al. 2017), passes the decoder's gradient straight through to the encoder, and
returns the codebook and commitment losses with usage statistics. The codebook learns
either by gradient (the codebook loss) or by exponential moving averages of the
vectors assigned to each code (``ema_decay``); `VectorQuantizer.restart_dead_codes`
moves codes that no vector chose back onto the data. `perplexity` measures usage.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from gentorch._checks import check_int, check_number, check_tensor
from gentorch.utils import rand

__all__ = ["VQOutput", "VectorQuantizer", "perplexity"]


class VQOutput(NamedTuple):
    """What `VectorQuantizer` returns.

    * ``quantized``: e_k for every input vector, the input's shape (..., dim); its
      value is exactly the codebook vector, its gradient passes straight through
      to z_e.
    * ``indices``: k for every input vector, the input's shape without dim, int64.
    * ``loss``: codebook + commitment loss per example, (B,), summed over positions
      and dim (the commitment part alone with an EMA codebook).
    * ``perplexity``: exp(entropy) of the batch's code frequencies, a 0-d tensor: 1
      when one code takes everything, codebook_size when all are used equally.
    * ``used``: the fraction of codes chosen at least once in the batch, 0-d.
    """

    quantized: torch.Tensor
    indices: torch.Tensor
    loss: torch.Tensor
    perplexity: torch.Tensor
    used: torch.Tensor


def perplexity(indices: torch.Tensor, codebook_size: int) -> torch.Tensor:
    """exp(-sum_j p_j log p_j), p_j the frequency of code j among `indices`."""
    check_tensor("indices", indices)
    codebook_size = check_int("codebook_size", codebook_size, minimum=1)
    return _perplexity(torch.bincount(indices.flatten(), minlength=codebook_size))


def _perplexity(counts: torch.Tensor) -> torch.Tensor:
    p = counts / counts.sum().clamp(min=1)
    return torch.exp(-(p * torch.log(p.clamp(min=1e-12))).sum())


class VectorQuantizer(nn.Module):
    """z_q = e_k, k = argmin_j ||z_e - e_j||^2, on channel-last vectors (..., dim).

    Loss (van den Oord et al. 2017, eq. 3, without the reconstruction term):
    ||sg[z_e] - e_k||^2 + commitment_weight * ||z_e - sg[e_k]||^2, sg = stop-gradient.
    With ``ema_decay`` = gamma the codebook is not trained by gradient; in training
    mode every forward pass updates, per code j with n_j assigned vectors summing to
    s_j (their appendix A.1),

        N_j <- gamma N_j + (1 - gamma) n_j,   m_j <- gamma m_j + (1 - gamma) s_j,
        e_j = m_j / N~_j,   N~_j = (N_j + eps) / (sum_i N_i + K eps) * sum_i N_i,

    (N~ is N with Laplace smoothing, eps = 1e-5, so that unused codes do not divide
    by zero) and the loss keeps only the commitment term. The update comes before the
    lookup, so `codebook_lookup(indices)` reproduces `quantized` in every mode.

    Args:
        dim: the length of each vector (the encoder's channels).
        codebook_size: K, the number of codes.
        commitment_weight: beta of the commitment loss (0.25 in the paper).
        ema_decay: None (gradient-trained codebook) or gamma in (0, 1), e.g. 0.99.

    Shapes:
        z_e: (B, ..., dim); returns `VQOutput`.
    """

    def __init__(
        self,
        dim: int,
        codebook_size: int,
        *,
        commitment_weight: float = 0.25,
        ema_decay: float | None = None,
    ) -> None:
        super().__init__()
        self.dim = check_int("dim", dim, minimum=1)
        self.codebook_size = check_int("codebook_size", codebook_size, minimum=1)
        self.commitment_weight = check_number(
            "commitment_weight", commitment_weight, low=0.0
        )
        if ema_decay is not None:
            ema_decay = check_number(
                "ema_decay", ema_decay, low=0.0, high=1.0, low_open=True, high_open=True
            )
        self.ema_decay = ema_decay
        k = self.codebook_size
        codebook = torch.empty(k, dim).uniform_(-1 / k, 1 / k)
        self.codebook = nn.Parameter(codebook, requires_grad=ema_decay is None)
        # EMA statistics (used only with ema_decay) and the assignments counted since
        # the last dead-code restart
        self.register_buffer("ema_count", torch.ones(k))
        self.register_buffer("ema_sum", codebook.clone())
        self.register_buffer("usage", torch.zeros(k))

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, codebook_size={self.codebook_size}, "
            f"commitment_weight={self.commitment_weight}, ema_decay={self.ema_decay}"
        )

    def codebook_lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """The codebook vectors e_k of integer indices: (...) -> (..., dim)."""
        check_tensor("indices", indices)
        if indices.is_floating_point() or indices.dtype == torch.bool:
            raise TypeError(f"indices must be an integer tensor; got {indices.dtype}")
        if indices.numel() and (
            indices.min() < 0 or indices.max() >= self.codebook_size
        ):
            raise ValueError(
                f"indices must be in 0..{self.codebook_size - 1} (codebook_size); got "
                f"values in {indices.min().item()}..{indices.max().item()}"
            )
        return F.embedding(indices.long(), self.codebook)

    def nearest(self, z_e: torch.Tensor) -> torch.Tensor:
        """k = argmin_j ||z_e - e_j||^2 for every vector: (..., dim) -> (...)."""
        flat = z_e.reshape(-1, self.dim)  # (..., dim) -> (N, dim)
        # ||z||^2 - 2 z.e + ||e||^2, without forming the (N, K, dim) differences
        distances = (
            flat.pow(2).sum(1, keepdim=True)
            - 2 * flat @ self.codebook.T
            + self.codebook.pow(2).sum(1)
        )  # (N, K)
        return distances.argmin(dim=1).reshape(z_e.shape[:-1])

    def forward(self, z_e: torch.Tensor) -> VQOutput:
        check_tensor("z_e", z_e, floating=True)
        if z_e.ndim < 2 or z_e.shape[-1] != self.dim:
            raise ValueError(
                f"z_e must have shape (B, ..., {self.dim}) (channel-last, dim="
                f"{self.dim}); got {tuple(z_e.shape)}"
            )
        with torch.no_grad():
            indices = self.nearest(z_e)
        counts = torch.bincount(indices.flatten(), minlength=self.codebook_size)
        if self.training:
            self.usage += counts.to(self.usage.dtype)
            if self.ema_decay is not None:
                self._ema_update(z_e.detach(), indices, counts)
        z_q = self.codebook_lookup(indices)
        commitment = (z_e - z_q.detach()).pow(2).flatten(1).sum(1)
        loss = self.commitment_weight * commitment
        if self.ema_decay is None:
            loss = loss + (z_e.detach() - z_q).pow(2).flatten(1).sum(1)
        # straight through: the value is exactly z_q, the gradient goes to z_e
        quantized = z_q.detach() + (z_e - z_e.detach())
        used = (counts > 0).float().mean()
        return VQOutput(quantized, indices, loss, _perplexity(counts), used)

    @torch.no_grad()
    def _ema_update(
        self, z_e: torch.Tensor, indices: torch.Tensor, counts: torch.Tensor
    ) -> None:
        gamma = self.ema_decay
        flat = z_e.reshape(-1, self.dim).to(self.codebook.dtype)
        sums = torch.zeros_like(self.ema_sum).index_add_(0, indices.flatten(), flat)
        self.ema_count.mul_(gamma).add_(
            counts.to(self.ema_count.dtype), alpha=1 - gamma
        )
        self.ema_sum.mul_(gamma).add_(sums, alpha=1 - gamma)
        total = self.ema_count.sum()
        eps = 1e-5
        smoothed = (self.ema_count + eps) / (total + self.codebook_size * eps) * total
        self.codebook.copy_(self.ema_sum / smoothed.unsqueeze(1))

    @torch.no_grad()
    def restart_dead_codes(
        self,
        z_e: torch.Tensor,
        *,
        min_usage: int = 1,
        generator: torch.Generator | None = None,
    ) -> int:
        """Move every code chosen fewer than `min_usage` times since the last restart
        onto a randomly picked vector of `z_e`, then reset the counts.

        A "dead" code sits where no encoder output lands, gets no gradient and no EMA
        update, and stays dead; restarting it on the data gives it a chance again
        (as in Dhariwal et al. 2020's Jukebox). Returns the number of codes moved.

        Shapes:
            z_e: (..., dim), recent encoder outputs (a batch).
        """
        check_tensor("z_e", z_e, floating=True)
        if z_e.ndim == 0 or z_e.shape[-1] != self.dim:
            raise ValueError(
                f"z_e must have shape (..., {self.dim}); got {tuple(z_e.shape)}"
            )
        min_usage = check_int("min_usage", min_usage, minimum=1)
        dead = (self.usage < min_usage).nonzero().flatten()
        flat = z_e.reshape(-1, self.dim).to(self.codebook.dtype)
        if len(dead) and len(flat):
            # uniform picks, drawn on the generator's device (gentorch.rand)
            u = rand((len(dead),), generator=generator, device=flat.device)
            pick = (u * len(flat)).long().clamp(max=len(flat) - 1)
            self.codebook[dead] = flat[pick]
            self.ema_sum[dead] = flat[pick]
            self.ema_count[dead] = 1.0
        self.usage.zero_()
        return len(dead)

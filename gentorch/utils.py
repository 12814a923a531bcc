"""Small helpers shared by every chapter: seeding, noise, devices, broadcasting, modes,
and `book_file`, which reads a file of the book's repository (a benchmark's results).

Nothing here holds state: `seed_everything` returns a `torch.Generator` for the caller
to pass on explicitly, `randn` and `rand` are the one place gentorch draws noise, and
`eval_mode` restores exactly what it changed.
"""

from __future__ import annotations

import contextlib
import os
import random
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from gentorch._checks import (
    check_bool,
    check_device,
    check_dtype,
    check_float64_support,
    check_generator,
    check_instance,
    check_int,
    check_number,
    check_tensor,
)

__all__ = [
    "BOOK_FILES_URL",
    "book_file",
    "call_model",
    "count_parameters",
    "eval_mode",
    "expand_like",
    "get_device",
    "rand",
    "randn",
    "seed_everything",
]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's `random`, NumPy's global RNG and torch (CPU and CUDA).

    Seeding the global generators makes code that does not take a `generator`
    (weight initialisation, dropout) reproducible; the returned generator is the one
    to pass explicitly to gentorch functions.

    Args:
        seed: a non-negative integer below 2**63 (Python or NumPy integer).

    Returns:
        A fresh CPU `torch.Generator` seeded with `seed`.
    """
    seed = check_int("seed", seed, minimum=0)
    if not seed < 2**63:
        raise ValueError(f"seed must satisfy 0 <= seed < 2**63; got {seed}")
    random.seed(seed)
    # NumPy's legacy global RNG only accepts 32-bit seeds.
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def get_device() -> torch.device:
    """Return the best available device: CUDA, then Apple MPS, then CPU.

    Returns:
        `torch.device("cuda")`, `torch.device("mps")` or `torch.device("cpu")`.
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def randn(
    shape: Sequence[int],
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Standard normal noise eps ~ N(0, I), drawn where `generator` lives.

    The rule of diffusers' `randn_tensor`: the numbers are drawn on the generator's
    device, so the same seed gives the same noise whatever `device` is, and a CPU
    generator (what `seed_everything` returns) works with CUDA data; the result is
    then moved to `device`. Without a generator the noise is drawn on `device`
    directly.

    Args:
        shape: the output shape.
        generator: source of randomness; None uses torch's global generator of
            `device` (the CPU when `device` is None).
        device: where the result goes; None keeps it on the generator's device.
        dtype: floating dtype; None means torch's default (float32).

    Returns:
        A tensor of `shape` on `device` with `dtype`.
    """
    return _draw(torch.randn, shape, generator, device, dtype)


def rand(
    shape: Sequence[int],
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Uniform noise u ~ U[0, 1), drawn where `generator` lives.

    Arguments, return value and the drawing rule are those of `randn`.
    """
    return _draw(torch.rand, shape, generator, device, dtype)


def _draw(sampler, shape, generator, device, dtype) -> torch.Tensor:
    """Draw ``sampler(shape)`` on the generator's device, then move it to `device`."""
    source = check_generator(generator)
    check_instance("shape", shape, (tuple, list, torch.Size), what="tuple of ints")
    shape = tuple(check_int("shape entries", n, minimum=0) for n in shape)
    dtype = torch.get_default_dtype() if dtype is None else check_dtype("dtype", dtype)
    target = source if device is None else check_device("device", device)
    if generator is None:
        # no generator to follow: draw where the noise is needed
        source = target
    check_float64_support(dtype, source, target)
    noise = sampler(shape, generator=generator, device=source, dtype=dtype)
    return noise.to(target)


def expand_like(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Reshape per-example values so they broadcast against a batch `x`.

    Typical use: a schedule value per example, `alphas_cumprod[t]` of shape (B,),
    multiplied with images of shape (B, C, H, W).

    Args:
        values: one value per example (or a single value for the whole batch).
        x: the floating batch the values will be broadcast against.

    Returns:
        `values` viewed as (B, 1, ..., 1) with `x.ndim` dimensions, on `x`'s device
        and with `x`'s dtype.

    Shapes:
        values: (B,) or (1,); x: (B, ...); output: (B, 1, ..., 1) or (1, 1, ..., 1).
    """
    check_tensor("values", values)
    # The values are cast to x's dtype; an integer x would silently truncate them.
    check_tensor("x", x, floating=True)
    if values.ndim != 1:
        shape = tuple(values.shape)
        raise ValueError(f"values must be 1-D, shape (B,); got shape {shape}")
    if x.ndim < 1:
        raise ValueError("x must have at least one (batch) dimension; got a 0-d tensor")
    if values.shape[0] not in (1, x.shape[0]):
        raise ValueError(
            f"values must have length 1 or x.shape[0]={x.shape[0]}; "
            f"got length {values.shape[0]}"
        )
    # (B,) -> (B, 1, ..., 1)
    shape = (values.shape[0],) + (1,) * (x.ndim - 1)
    return values.to(device=x.device, dtype=x.dtype).reshape(shape)


def count_parameters(model: torch.nn.Module, *, trainable_only: bool = True) -> int:
    """Count the scalar parameters of a module.

    Args:
        model: any `torch.nn.Module`.
        trainable_only: count only parameters with `requires_grad=True`.

    Returns:
        The total number of scalar entries.
    """
    check_instance("model", model, torch.nn.Module, what="torch.nn.Module")
    check_bool("trainable_only", trainable_only)
    return sum(
        p.numel() for p in model.parameters() if p.requires_grad or not trainable_only
    )


def call_model(
    model: Callable[..., torch.Tensor],
    x: torch.Tensor,
    timesteps: torch.Tensor,
    class_labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """``model(x, timesteps)``, or ``model(x, timesteps, class_labels)`` when labels
    are given: how the diffusion and flow processes call a denoiser, so that an
    unconditional network need not accept a labels argument."""
    if class_labels is None:
        return model(x, timesteps)
    return model(x, timesteps, class_labels)


def eval_mode(
    model: torch.nn.Module,
) -> contextlib.AbstractContextManager[torch.nn.Module]:
    """Context manager: evaluation mode (dropout off, BatchNorm frozen), undone on exit.

    It only switches modes: gradients still flow, so a GAN's generator step can run
    through the discriminator in eval mode. Add `torch.no_grad()` where no gradient is
    wanted, visibly: ``with eval_mode(model), torch.no_grad(): ...``.

    Each submodule's `.training` flag is restored individually, so a model that was
    partly frozen (say, a BatchNorm left in eval) comes back exactly as it was.

    Args:
        model: the module to switch to `eval()`.

    Returns:
        A context manager yielding `model`.

    Example:
        >>> with eval_mode(model), torch.no_grad():
        ...     samples = model.sample(16)
    """
    check_instance("model", model, torch.nn.Module, what="torch.nn.Module")
    return _eval_mode(model)


@contextlib.contextmanager
def _eval_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    previous = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in previous:
            module.training = training


#: Where `book_file` downloads from when the book's checkout is not at hand (Colab).
BOOK_FILES_URL = "https://raw.githubusercontent.com/gentorch/gentorch-book/main/"


def book_file(
    path: str, *, root: str | os.PathLike = "..", timeout: float = 60.0
) -> bytes:
    """A file of the book's repository, such as a benchmark's JSON results.

    Chapters run in the repository's ``chapters/`` folder, so the checkout is at
    ``root=".."``; the file is read from there when it exists, and otherwise (in
    Colab, say) downloaded from `BOOK_FILES_URL`.

    Args:
        path: the file's path inside the repository, with forward slashes, such as
            ``"benchmarks/results/arm_digits.json"``; relative, without "..".
        root: the repository's folder on this machine.
        timeout: seconds to wait for the download.

    Returns:
        The file's contents.
    """
    check_instance("path", path, str, what="str")
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or ".." in parts or "\\" in path:
        raise ValueError(
            "path must be a relative path inside the repository with forward "
            f"slashes and no '..', such as 'benchmarks/results/x.json'; got {path!r}"
        )
    check_instance("root", root, (str, os.PathLike), what="str or path")
    timeout = check_number("timeout", timeout, low=0, low_open=True)
    local = Path(root).joinpath(*parts)
    if local.is_file():
        return local.read_bytes()
    with urllib.request.urlopen(BOOK_FILES_URL + path, timeout=timeout) as response:
        return response.read()

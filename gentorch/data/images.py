"""Image data sets through torchvision (MNIST, Fashion-MNIST), online only.

torchvision is imported lazily and is not a dependency of gentorch (Colab has it). An
offline machine fails fast with a `ConnectionError` that names the offline
alternatives; nothing else is ever substituted.
"""

from __future__ import annotations

import os
import socket
from typing import Literal
from urllib.parse import urlsplit

import torch

from gentorch._checks import check_bool, check_choice, check_instance, check_number
from gentorch.data._common import LabeledData

__all__ = ["MNIST_HOSTS", "mnist"]

#: (host, port) torchvision downloads from; used when torchvision lists no mirrors.
MNIST_HOSTS: dict[str, tuple[str, int]] = {
    "mnist": ("ossci-datasets.s3.amazonaws.com", 443),
    "fashion": ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80),
}


def _check_reachable(host: str, port: int, timeout: float) -> None:
    """Raise ConnectionError unless a TCP connection to host:port opens in time."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        raise ConnectionError(
            f"cannot reach {host}:{port} ({error}). No internet? Offline alternatives: "
            "gentorch.data.digits() and the 2-D toy sets (gentorch.data.toy_2d); or "
            "download the MNIST files elsewhere and copy them into `root`."
        ) from error


def _mirror_hosts(dataset_cls: type, key: str) -> list[tuple[str, int]]:
    hosts = []
    for url in getattr(dataset_cls, "mirrors", []):
        parts = urlsplit(url)
        if parts.hostname:
            default = 443 if parts.scheme == "https" else 80
            hosts.append((parts.hostname, parts.port or default))
    return hosts or [MNIST_HOSTS[key]]


def mnist(
    split: Literal["train", "test"] = "train",
    *,
    fashion: bool = False,
    root: str = "data",
    timeout: float = 5.0,
) -> LabeledData:
    """MNIST (or Fashion-MNIST) through torchvision, in the model range [-1, 1].

    Files already under `root` are used as they are; otherwise the download host is
    probed first (`timeout` seconds), so an offline machine fails fast with a
    `ConnectionError` instead of hanging.

    Args:
        split: "train" (60000 images) or "test" (10000).
        fashion: load Fashion-MNIST instead of MNIST.
        root: folder holding (or receiving) the files.
        timeout: seconds to wait for the download host.

    Returns:
        `LabeledData(x, y)` with x (N, 1, 28, 28) float32 = p / 127.5 - 1 for pixels p
        in 0..255, and y (N,) int64.
    """
    check_choice("split", split, ("train", "test"))
    check_bool("fashion", fashion)
    check_instance("root", root, (str, os.PathLike), what="str or path")
    timeout = check_number("timeout", timeout, low=0, low_open=True)
    try:
        from torchvision import datasets
    except ImportError as error:
        raise ImportError(
            "gentorch.data.mnist needs torchvision, which gentorch does not install: "
            "pip install torchvision (in Colab it is already installed)"
        ) from error
    dataset_cls = datasets.FashionMNIST if fashion else datasets.MNIST
    train = split == "train"
    try:
        dataset = dataset_cls(root, train=train, download=False)
    except RuntimeError:  # files not there yet
        hosts = _mirror_hosts(dataset_cls, "fashion" if fashion else "mnist")
        for i, (host, port) in enumerate(hosts):
            try:
                _check_reachable(host, port, timeout)
                break
            except ConnectionError:
                if i == len(hosts) - 1:
                    raise
        dataset = dataset_cls(root, train=train, download=True)
    pixels = torch.as_tensor(dataset.data)  # (N, 28, 28) uint8
    x = pixels.unsqueeze(1).float() / 127.5 - 1  # (N, 28, 28) -> (N, 1, 28, 28)
    return LabeledData(x, torch.as_tensor(dataset.targets, dtype=torch.int64))

"""Figures for the book: 2-D samples, densities, decision boundaries, images, curves.

Every function draws on `ax` (a new figure when None) and returns the Axes. Nothing
here calls `plt.show()` or changes matplotlib's global settings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from gentorch._checks import (
    check_bool,
    check_callable,
    check_instance,
    check_int,
    check_number,
)
from gentorch.train import History

__all__ = [
    "GridPoints",
    "decision_boundary",
    "density_contour",
    "grid_points",
    "history",
    "image_grid",
    "scatter_2d",
]


def _axes(ax: Axes | None) -> Axes:
    check_instance("ax", ax, Axes, optional=True, what="matplotlib Axes")
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _numpy(name: str, x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().float().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        kind = type(x).__name__
        raise TypeError(f"{name} must be a tensor or array; got {kind}") from error


def _check_limits(name: str, lim: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in lim)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a pair (low, high); got {lim!r}") from error
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{name} must be finite with low < high; got {lim!r}")
    return low, high


def _check_cmap(cmap: Any) -> None:
    what = "matplotlib Colormap or a registered colormap name"
    check_instance("cmap", cmap, (str, matplotlib.colors.Colormap), what=what)
    if isinstance(cmap, str) and cmap not in matplotlib.colormaps:
        raise ValueError(
            f"cmap must be a registered colormap name such as 'Blues', 'viridis' or "
            f"'gray'; got {cmap!r}"
        )


class GridPoints(NamedTuple):
    """An evaluation grid: meshgrid coordinates and the same points as rows.

    Shapes:
        xx, yy: (R, R); points: (R*R, 2).
    """

    xx: torch.Tensor
    yy: torch.Tensor
    points: torch.Tensor


def grid_points(
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    resolution: int = 100,
) -> GridPoints:
    """Evaluation grid over a rectangle, for densities and classifiers.

    Args:
        xlim: (low, high) of the first coordinate.
        ylim: (low, high) of the second coordinate.
        resolution: points per axis.

    Returns:
        `GridPoints(xx, yy, points)`: xx, yy a float32 meshgrid ("xy" indexing: xx
        varies along columns) and points its float32 rows (xx[i, j], yy[i, j]) in
        row-major order, all on the CPU.

    Shapes:
        xx, yy: (resolution, resolution); points: (resolution**2, 2).
    """
    x_low, x_high = _check_limits("xlim", xlim)
    y_low, y_high = _check_limits("ylim", ylim)
    check_int("resolution", resolution, minimum=2)
    xs = torch.linspace(x_low, x_high, resolution)
    ys = torch.linspace(y_low, y_high, resolution)
    xx, yy = torch.meshgrid(xs, ys, indexing="xy")
    points = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)  # (R, R) -> (R*R, 2)
    return GridPoints(xx, yy, points)


def _evaluate_on_grid(
    name: str, fn: Callable, xlim: Any, ylim: Any, resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    check_callable(name, fn)
    xx, yy, points = grid_points(xlim, ylim, resolution=resolution)
    with torch.no_grad():
        values = torch.as_tensor(fn(points))
    if values.shape != (len(points),):
        raise ValueError(
            f"{name} must map (M, 2) points to shape (M,) = ({len(points)},); "
            f"got {tuple(values.shape)}"
        )
    values = values.detach().cpu().double().reshape(xx.shape)  # (R*R,) -> (R, R)
    return xx.numpy(), yy.numpy(), values.numpy()


def scatter_2d(
    x: Any,
    *,
    labels: Any = None,
    ax: Axes | None = None,
    s: float = 6,
    alpha: float = 0.6,
    title: str | None = None,
    xlabel: str | None = "$x_1$",
    ylabel: str | None = "$x_2$",
    **kwargs: Any,
) -> Axes:
    """Scatter plot of 2-D points, coloured by class when `labels` is given.

    Args:
        x: points, tensor or array.
        labels: optional class of each point; one colour and legend entry per class
            (move the legend with ``ax.legend(title="class", loc=...)``).
        ax: axes to draw on; None creates a figure.
        s: marker area in points squared (matplotlib's ``s``).
        alpha: marker opacity, from 0 (invisible) to 1 (opaque).
        title: axes title.
        xlabel: label of the horizontal axis (the first coordinate); None: unset.
        ylabel: label of the vertical axis (the second coordinate); None: unset.
        **kwargs: passed on to `Axes.scatter`.

    Returns:
        The axes drawn on.

    Shapes:
        x: (N, 2); labels: (N,).
    """
    check_instance("title", title, str, optional=True)
    check_instance("xlabel", xlabel, str, optional=True)
    check_instance("ylabel", ylabel, str, optional=True)
    points = _numpy("x", x)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"x must have shape (N, 2); got {points.shape}")
    ax = _axes(ax)
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=s, alpha=alpha, **kwargs)
    else:
        if isinstance(labels, torch.Tensor):
            labels = labels.cpu()
        classes = np.asarray(labels)
        if classes.shape != (len(points),):
            raise ValueError(
                f"labels must have shape (N,) = ({len(points)},); got {classes.shape}"
            )
        for c in np.unique(classes):
            mask = classes == c
            xs, ys = points[mask, 0], points[mask, 1]
            ax.scatter(xs, ys, s=s, alpha=alpha, label=str(c), **kwargs)
        ax.legend(title="class", markerscale=2)
    if title is not None:
        ax.set_title(title)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    ax.set_aspect("equal", adjustable="box")
    return ax


def density_contour(
    log_prob_fn: Callable[[torch.Tensor], torch.Tensor],
    *,
    xlim: tuple[float, float] = (-3, 3),
    ylim: tuple[float, float] = (-3, 3),
    resolution: int = 100,
    ax: Axes | None = None,
    levels: int | Sequence[float] = 8,
    filled: bool = True,
    cmap: str = "Blues",
) -> Axes:
    """Contours of a 2-D density p(x) = exp(log_prob_fn(x)) over a rectangle.

    Args:
        log_prob_fn: maps float32 points (M, 2) on the CPU to log-densities (M,);
            called under `torch.no_grad()`. A model on another device or dtype
            moves them itself: ``lambda x: model.log_prob(x.to(device)).cpu()``.
        xlim: (low, high) of the first coordinate on the plotted rectangle.
        ylim: (low, high) of the second coordinate on the plotted rectangle.
        resolution: grid points per axis.
        ax: axes to draw on; None creates a figure.
        levels: number of contour levels, or the levels themselves (density units).
        filled: filled contours (`contourf`) instead of lines.
        cmap: colormap (name or `Colormap`).

    Returns:
        The axes drawn on.
    """
    _check_cmap(cmap)
    xx, yy, log_p = _evaluate_on_grid(
        "log_prob_fn", log_prob_fn, xlim, ylim, resolution
    )
    ax = _axes(ax)
    draw = ax.contourf if filled else ax.contour
    draw(xx, yy, np.exp(log_p), levels=levels, cmap=cmap)
    ax.set_aspect("equal", adjustable="box")  # as scatter_2d: works with shared axes
    return ax


def decision_boundary(
    prob_fn: Callable[[torch.Tensor], torch.Tensor],
    *,
    xlim: tuple[float, float] = (-3, 3),
    ylim: tuple[float, float] = (-3, 3),
    resolution: int = 200,
    ax: Axes | None = None,
    level: float = 0.5,
    filled: bool = True,
    colorbar: bool | str = False,
    color: str = "k",
    label: str | None = None,
    linestyles: str = "-",
) -> Axes:
    """Draw the curve p(y=1 | x) = level of a binary classifier on 2-D inputs.

    Args:
        prob_fn: maps float32 points (M, 2) on the CPU to probabilities (M,) in
            [0, 1] (apply `torch.sigmoid` to logits); called under `torch.no_grad()`.
            A model on another device moves the points itself.
        xlim: (low, high) of the first coordinate on the plotted rectangle.
        ylim: (low, high) of the second coordinate on the plotted rectangle.
        resolution: grid points per axis.
        ax: axes to draw on; None creates a figure.
        level: probability of the drawn contour, in (0, 1).
        filled: also shade the background by p, on a diverging scale from blue
            (p = 0, class 0) through white (p = 1/2) to red (p = 1, class 1).
        colorbar: add a colorbar for the shading (needs ``filled=True``): True
            labels it p(y = 1 | x), a string is the label (e.g. ``"$D(x)$"``).
        color: colour of the boundary line.
        linestyles: matplotlib line style of the boundary line ("-", "--", ":").
        label: legend entry for the boundary (a proxy line is added).

    Returns:
        The axes drawn on.
    """
    check_number("level", level, low=0, high=1, low_open=True, high_open=True)
    check_bool("filled", filled)
    if not isinstance(colorbar, str):
        check_bool("colorbar", colorbar)
    if colorbar and not filled:
        raise ValueError("colorbar=True needs filled=True: there is no shading")
    xx, yy, p = _evaluate_on_grid("prob_fn", prob_fn, xlim, ylim, resolution)
    finite = p[np.isfinite(p)]
    if finite.size < p.size or finite.min() < 0 or finite.max() > 1:
        seen = f"[{finite.min():.3g}, {finite.max():.3g}]" if finite.size else "none"
        raise ValueError(
            "prob_fn must return probabilities in [0, 1] (apply torch.sigmoid to "
            f"logits); got finite values in {seen}"
            + ("" if finite.size == p.size else " and non-finite values")
        )
    ax = _axes(ax)
    if filled:
        shading = ax.contourf(
            xx, yy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.25
        )
        if colorbar:
            bar = ax.figure.colorbar(shading, ax=ax, ticks=np.linspace(0, 1, 5))
            default = "$p(y = 1 \\mid x)$"
            bar.set_label(colorbar if isinstance(colorbar, str) else default)
    if p.min() < level < p.max():  # otherwise there is no boundary to draw
        ax.contour(xx, yy, p, levels=[level], colors=color, linestyles=linestyles)
    if label is not None:
        proxy = Line2D([], [], color=color, linestyle=linestyles, label=label)
        ax.add_line(proxy)
        ax.legend()
    return ax


def image_grid(
    images: Any,
    *,
    nrow: int | None = None,
    ax: Axes | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    cmap: str = "gray",
    title: str | None = None,
    pad: int = 1,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
) -> Axes:
    """Tile a batch of images into one picture (like torchvision's `make_grid`).

    Args:
        images: grayscale or RGB images, tensor or array.
        nrow: images per row; None uses ceil(sqrt(N)).
        ax: axes to draw on; None creates a figure.
        value_range: (low, high) pixel values shown as black and white.
        cmap: colormap for grayscale images.
        title: axes title.
        pad: pixels between tiles (left transparent).
        row_labels: one label per row of tiles, written beside the row's centre
            (e.g. "input", "reconstruction"); None leaves the y axis bare.
        col_labels: one label per column of tiles, under the column's centre.

    Returns:
        The axes drawn on.

    Shapes:
        images: (N, H, W), (N, 1, H, W) or (N, 3, H, W).
    """
    check_instance("title", title, str, optional=True)
    batch = _numpy("images", images)
    if batch.ndim == 3:
        batch = batch[:, None]  # (N, H, W) -> (N, 1, H, W)
    if batch.ndim != 4 or batch.shape[1] not in (1, 3) or len(batch) == 0:
        raise ValueError(
            "images must have shape (N, H, W), (N, 1, H, W) or (N, 3, H, W) with "
            f"N >= 1; got {np.shape(images)}"
        )
    low, high = _check_limits("value_range", value_range)
    n, channels, h, w = batch.shape
    if nrow is None:
        nrow = math.ceil(math.sqrt(n))
    check_int("nrow", nrow, minimum=1)
    check_int("pad", pad, minimum=0)
    _check_cmap(cmap)
    colormap = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    cols, rows = min(nrow, n), math.ceil(n / nrow)
    # (N, C, H, W) -> (N, H, W, C), scaled to [0, 1]
    tiles = np.clip((batch - low) / (high - low), 0, 1).transpose(0, 2, 3, 1)
    if channels == 1:  # (N, H, W, 1) -> (N, H, W, 3) through the colormap
        tiles = colormap(tiles[..., 0])[..., :3]
    # RGBA canvas: padding keeps alpha 0, so the axes background shows through.
    canvas = np.zeros((rows * (h + pad) - pad, cols * (w + pad) - pad, 4))
    for i, tile in enumerate(tiles):  # tile: (H, W, 3)
        top, left = (i // cols) * (h + pad), (i % cols) * (w + pad)
        canvas[top : top + h, left : left + w, :3] = tile
        canvas[top : top + h, left : left + w, 3] = 1
    rows_text = _tile_labels("row_labels", row_labels, rows)
    cols_text = _tile_labels("col_labels", col_labels, cols)
    ax = _axes(ax)
    ax.imshow(canvas, interpolation="nearest")
    # a tile's pixels span [top - 0.5, top + h - 0.5]: its centre is top + (h - 1)/2
    ax.set_yticks([r * (h + pad) + (h - 1) / 2 for r in range(len(rows_text))])
    ax.set_yticklabels(rows_text)
    ax.set_xticks([c * (w + pad) + (w - 1) / 2 for c in range(len(cols_text))])
    ax.set_xticklabels(cols_text)
    if title is not None:
        ax.set_title(title)
    return ax


def _tile_labels(name: str, labels: Any, count: int) -> list[str]:
    """[] for None, else exactly `count` strings (one per row or column of tiles)."""
    if labels is None:
        return []
    check_instance(name, labels, (list, tuple), what="list or tuple of str")
    what = "row" if name == "row_labels" else "column"
    if len(labels) != count or not all(isinstance(t, str) for t in labels):
        raise ValueError(
            f"{name} must hold one str per {what} of tiles ({count}); "
            f"got {list(labels)!r}"
        )
    return list(labels)


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def history(
    hist: History,
    names: str | Sequence[str] | None = None,
    *,
    ax: Axes | None = None,
    smooth: int = 0,
    logy: bool = False,
    logx: bool = False,
) -> Axes:
    """Plot logged series of a `History` against their steps.

    One series is labelled on the y axis; several get a legend. Series in different
    units belong on different axes: call this once per axes.

    Args:
        hist: the history.
        names: a series name, several, or None for all.
        ax: axes to draw on; None creates a figure.
        smooth: moving-average window; > 1 draws the raw curve faintly and the
            average (plotted at the window's last step) on top.
        logy: logarithmic y axis.
        logx: logarithmic step axis (step 0, which has no place on it, is left out).

    Returns:
        The axes drawn on.
    """
    check_instance("hist", hist, History, what="gentorch.train.History")
    if names is None:
        selected = hist.names
    else:
        selected = [names] if isinstance(names, str) else list(names)
    unknown = [name for name in selected if name not in hist]
    if unknown or not selected:
        raise ValueError(f"names must be among {hist.names}; got {names!r}")
    check_int("smooth", smooth, minimum=0)
    check_bool("logy", logy)
    check_bool("logx", logx)
    ax = _axes(ax)
    for name in selected:
        steps, values = np.asarray(hist.steps(name)), np.asarray(hist[name])
        window = min(smooth, len(values))
        # step 0 has no place on a log axis
        keep = steps > 0 if logx else slice(None)
        if window > 1:
            (line,) = ax.plot(steps[keep], values[keep], alpha=0.3)
            # each average is plotted at its window's last step
            steps_s = steps[window - 1 :]
            smoothed = _moving_average(values, window)
            keep_s = steps_s > 0 if logx else slice(None)
            ax.plot(
                steps_s[keep_s], smoothed[keep_s], color=line.get_color(), label=name
            )
        else:
            ax.plot(steps[keep], values[keep], label=name)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("step (log scale)" if logx else "step")
    if len(selected) == 1:
        ax.set_ylabel(selected[0])
    else:
        ax.legend()
    return ax

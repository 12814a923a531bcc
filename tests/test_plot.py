"""Tests for gentorch.plot."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.axes import Axes

from gentorch import plot
from gentorch.train import History


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def standard_normal_log_prob(points):
    return torch.distributions.Normal(0.0, 1.0).log_prob(points).sum(-1)


def test_grid_points_shapes_and_order():
    xx, yy, points = plot.grid_points((-1, 1), (0, 2), resolution=5)
    assert xx.shape == yy.shape == (5, 5) and points.shape == (25, 2)
    assert points.dtype == torch.float32
    assert torch.equal(xx[0], torch.linspace(-1, 1, 5))
    assert torch.equal(yy[:, 0], torch.linspace(0, 2, 5))
    assert torch.equal(points[7], torch.stack([xx[1, 2], yy[1, 2]]))


def test_grid_points_rejects_bad_arguments():
    with pytest.raises(ValueError, match="xlim"):
        plot.grid_points((1, -1), (0, 1))
    with pytest.raises(ValueError, match="ylim"):
        plot.grid_points((0, 1), (0, 1, 2))
    with pytest.raises(ValueError, match="resolution"):
        plot.grid_points((0, 1), (0, 1), resolution=1)


def test_scatter_2d_plain_and_labelled():
    x = torch.randn(30, 2, generator=torch.Generator().manual_seed(0))
    ax = plot.scatter_2d(x, title="samples")
    assert isinstance(ax, Axes) and len(ax.collections) == 1
    assert ax.get_title() == "samples"
    labels = torch.arange(30) % 3
    ax = plot.scatter_2d(x.numpy(), labels=labels, marker="x")
    assert len(ax.collections) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2"]
    fig, own = plt.subplots()
    assert plot.scatter_2d(x.double(), ax=own) is own


def test_scatter_2d_rejects_bad_input():
    with pytest.raises(ValueError, match="x must have shape"):
        plot.scatter_2d(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="labels"):
        plot.scatter_2d(torch.zeros(5, 2), labels=[0, 1])
    with pytest.raises(TypeError, match="ax"):
        plot.scatter_2d(torch.zeros(5, 2), ax="left")


def test_density_contour_draws_and_runs_without_grad():
    seen = {}

    def log_prob(points):
        seen["grad"] = torch.is_grad_enabled()
        seen["shape"], seen["dtype"] = points.shape, points.dtype
        return standard_normal_log_prob(points)

    ax = plot.density_contour(log_prob, resolution=20)
    assert isinstance(ax, Axes) and len(ax.collections) > 0
    assert seen == {"grad": False, "shape": (400, 2), "dtype": torch.float32}
    ax = plot.density_contour(standard_normal_log_prob, filled=False, levels=[0.05])
    assert len(ax.collections) > 0


def test_density_contour_rejects_bad_input():
    with pytest.raises(ValueError, match="log_prob_fn"):
        plot.density_contour(lambda p: torch.zeros(len(p), 1), resolution=10)
    with pytest.raises(TypeError, match="log_prob_fn"):
        plot.density_contour("normal")
    with pytest.raises(ValueError, match="xlim"):
        plot.density_contour(standard_normal_log_prob, xlim=(0, 0))


def test_decision_boundary_draws_line_fill_and_legend():
    def prob(points):
        return torch.sigmoid(points[:, 0] - points[:, 1])

    ax = plot.decision_boundary(prob, resolution=30, label="boundary")
    assert isinstance(ax, Axes) and len(ax.collections) == 2  # fill + line
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["boundary"]
    ax = plot.decision_boundary(prob, resolution=30, filled=False, linestyles="--")
    assert len(ax.collections) == 1 and ax.get_legend() is None


def test_decision_boundary_colorbar_spans_the_probabilities():
    def prob(points):
        return torch.sigmoid(points[:, 0])

    ax = plot.decision_boundary(prob, resolution=30, colorbar=True)
    bar_axes = [a for a in ax.figure.axes if a is not ax]
    assert len(bar_axes) == 1
    assert "p(y = 1" in bar_axes[0].get_ylabel()
    np.testing.assert_allclose(bar_axes[0].get_ylim(), (0, 1))
    with pytest.raises(ValueError, match="colorbar=True needs filled=True"):
        plot.decision_boundary(prob, filled=False, colorbar=True)
    # a string is the colorbar's label
    ax = plot.decision_boundary(prob, resolution=30, colorbar="$D(x)$")
    (bar,) = [a for a in ax.figure.axes if a is not ax]
    assert bar.get_ylabel() == "$D(x)$"
    with pytest.raises(TypeError, match="colorbar"):
        plot.decision_boundary(prob, colorbar=1)


def test_scatter_2d_labels_the_coordinates():
    ax = plot.scatter_2d(torch.zeros(3, 2))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")
    ax = plot.scatter_2d(torch.zeros(3, 2), xlabel=None, ylabel="height")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("", "height")
    with pytest.raises(TypeError, match="xlabel"):
        plot.scatter_2d(torch.zeros(3, 2), xlabel=1)


def test_decision_boundary_rejects_bad_input():
    def prob(points):
        return torch.full((len(points),), 0.3)

    with pytest.raises(ValueError, match="level"):
        plot.decision_boundary(prob, level=1.5)
    with pytest.raises(ValueError, match="prob_fn"):
        plot.decision_boundary(lambda p: p, resolution=10)
    with pytest.raises(ValueError, match="resolution"):
        plot.decision_boundary(prob, resolution=0)


@pytest.mark.parametrize("shape", [(5, 8, 8), (5, 1, 8, 8), (5, 3, 6, 7)])
def test_image_grid_tiles_images(shape):
    images = torch.rand(shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    ax = plot.image_grid(images, title="samples")
    assert isinstance(ax, Axes) and len(ax.images) == 1
    h, w = shape[-2:]
    canvas = ax.images[0].get_array()
    # ceil(sqrt(5)) = 3 per row, 2 rows, 1 pixel padding
    assert canvas.shape == (2 * h + 1, 3 * w + 2, 4)
    assert ax.get_xticks().size == 0 and ax.get_title() == "samples"
    top_left = np.asarray(canvas[:h, :w, :3])
    if shape[-3] == 3:  # RGB tiles map value_range (-1, 1) onto (0, 1)
        expected = (images[0].permute(1, 2, 0).numpy() + 1) / 2
        np.testing.assert_allclose(top_left, expected, atol=1e-6)
    assert float(np.asarray(canvas)[h, 0, 3]) == 0  # padding is transparent


def test_image_grid_nrow_and_value_range():
    images = np.zeros((4, 2, 2))
    ax = plot.image_grid(images, nrow=4, pad=0, value_range=(0.0, 1.0))
    canvas = np.asarray(ax.images[0].get_array())
    assert canvas.shape == (2, 8, 4)
    np.testing.assert_allclose(canvas[..., :3], 0.0)  # black in the gray colormap


def test_image_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="images"):
        plot.image_grid(torch.zeros(2, 2, 8, 8))
    with pytest.raises(ValueError, match="images"):
        plot.image_grid(torch.zeros(8, 8))
    with pytest.raises(ValueError, match="nrow"):
        plot.image_grid(torch.zeros(4, 8, 8), nrow=0)
    with pytest.raises(ValueError, match="value_range"):
        plot.image_grid(torch.zeros(4, 8, 8), value_range=(1, -1))
    with pytest.raises(ValueError, match="pad"):
        plot.image_grid(torch.zeros(4, 8, 8), pad=-1)
    with pytest.raises(ValueError, match="cmap"):
        plot.image_grid(torch.zeros(4, 8, 8), cmap="no-such-map")


def _history():
    history = History()
    for step in range(20):
        history.log(step=step * 5, loss=1.0 / (step + 1), acc=step / 20)
    return history


def test_history_plot_series_smoothing_and_logy():
    hist = _history()
    ax = plot.history(hist)
    assert isinstance(ax, Axes) and len(ax.lines) == 2
    assert ax.get_xlabel() == "step"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), hist.steps("loss"))
    ax = plot.history(hist, "loss", smooth=4, logy=True)
    raw, smoothed = ax.lines
    assert len(smoothed.get_xdata()) == 17 and smoothed.get_xdata()[0] == 15
    expected = np.mean(hist["loss"][:4])
    np.testing.assert_allclose(smoothed.get_ydata()[0], expected)
    assert ax.get_yscale() == "log"
    # one series: its name labels the y axis, and no legend repeats it
    assert ax.get_ylabel() == "loss" and ax.get_legend() is None
    ax = plot.history(hist, ["loss", "acc"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss", "acc"]


def test_history_plot_log_step_axis_leaves_out_step_zero():
    hist = _history()
    ax = plot.history(hist, "loss", logx=True)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "step (log scale)"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), hist.steps("loss")[1:])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), hist["loss"][1:])
    raw, smoothed = plot.history(hist, "loss", logx=True, smooth=4).lines
    assert (raw.get_xdata() > 0).all() and (smoothed.get_xdata() > 0).all()
    with pytest.raises(TypeError, match="logx"):
        plot.history(hist, logx="yes")


def test_history_plot_rejects_bad_input():
    hist = _history()
    with pytest.raises(ValueError, match="names"):
        plot.history(hist, "kl")
    with pytest.raises(ValueError, match="names"):
        plot.history(History())
    with pytest.raises(ValueError, match="smooth"):
        plot.history(hist, smooth=-1)
    with pytest.raises(TypeError, match="hist"):
        plot.history({"loss": [1.0]})


def test_grid_points_is_a_named_tuple():
    grid = plot.grid_points((-1, 1), (0, 2), resolution=3)
    assert isinstance(grid, plot.GridPoints)
    assert grid.points.shape == (9, 2) and grid.xx is grid[0]


def test_density_contour_shows_the_density_not_the_log_density():
    ax = plot.density_contour(standard_normal_log_prob, filled=False, resolution=201)
    (contours,) = [c for c in ax.collections if hasattr(c, "levels")]
    # the peak of a standard 2-D Gaussian is 1 / (2 pi) = 0.159; matplotlib picks
    # round levels around it. Log-densities (all < -1.8) would give negative levels.
    assert min(contours.levels) >= 0
    assert 0.1 < max(contours.levels) < 0.2


def _boundary_x(ax):
    """x-coordinates of the drawn p = level line (the last line contour)."""
    (contour,) = [c for c in ax.collections if hasattr(c, "levels")][-1:]
    return np.concatenate([path.vertices[:, 0] for path in contour.get_paths()])


@pytest.mark.parametrize("level", [0.5, 0.8])
def test_decision_boundary_draws_the_requested_level_in_the_right_place(level):
    # p(y=1|x) = sigmoid(4 (x0 - 1)): the level-p line is x0 = 1 + logit(p) / 4,
    # whatever x1 is; an asymmetric function catches transposed grids.
    def prob_fn(points):
        return torch.sigmoid(4 * (points[:, 0] - 1))

    ax = plot.decision_boundary(prob_fn, filled=False, resolution=401)
    xs = _boundary_x(ax)
    expected = 1 + np.log(level / (1 - level)) / 4
    if level != 0.5:
        ax = plot.decision_boundary(prob_fn, filled=False, resolution=401, level=level)
        xs = _boundary_x(ax)
    np.testing.assert_allclose(xs, expected, atol=0.02)


def test_decision_boundary_rejects_logits_and_nan():
    with pytest.raises(ValueError, match="prob_fn must return probabilities"):
        plot.decision_boundary(lambda p: 3 * p[:, 0])
    with pytest.raises(ValueError, match="non-finite"):
        plot.decision_boundary(lambda p: torch.full((len(p),), float("nan")))


def test_image_grid_places_every_tile_row_major():
    # 5 constant 2x2 images with distinct grey levels, 3 per row, pad 1
    values = torch.linspace(-1, 1, 5)
    images = values[:, None, None, None].expand(5, 1, 2, 2)
    ax = plot.image_grid(images, nrow=3, pad=1)
    canvas = ax.get_images()[0].get_array()
    assert canvas.shape[:2] == (2 * 3 - 1, 3 * 3 - 1)
    grey = plt.get_cmap("gray")
    for i, v in enumerate(values):
        top, left = (i // 3) * 3, (i % 3) * 3
        expected = grey(float((v + 1) / 2))[:3]
        np.testing.assert_allclose(canvas[top, left, :3], expected, atol=1e-6)
        assert canvas[top, left, 3] == 1
    assert canvas[3, 6, 3] == 0  # the sixth slot is empty: transparent


def test_image_grid_accepts_a_colormap_object_and_checks_titles():
    ax = plot.image_grid(torch.zeros(2, 4, 4), cmap=plt.get_cmap("viridis"))
    assert ax.get_images()
    with pytest.raises(ValueError, match="cmap must be a registered colormap name"):
        plot.image_grid(torch.zeros(2, 4, 4), cmap="no-such-map")
    with pytest.raises(TypeError, match="cmap must be a matplotlib Colormap"):
        plot.image_grid(torch.zeros(2, 4, 4), cmap=3)
    with pytest.raises(TypeError, match="title"):
        plot.image_grid(torch.zeros(2, 4, 4), title=3)


def test_integer_arguments_accept_numpy_integers():
    ax = plot.image_grid(torch.zeros(4, 4, 4), nrow=np.int64(2))
    assert ax.get_images()
    with pytest.raises(TypeError, match="resolution"):
        plot.grid_points((0, 1), (0, 1), resolution=2.5)


def test_image_grid_labels_rows_and_columns_at_tile_centres():
    # 5 tiles of 2x3 pixels, 3 per row, pad 1: rows start at y = 0 and 3,
    # columns at x = 0, 4 and 8
    images = torch.zeros(5, 1, 2, 3)
    ax = plot.image_grid(
        images, nrow=3, pad=1, row_labels=["a", "b"], col_labels=("x", "y", "z")
    )
    np.testing.assert_allclose(ax.get_yticks(), [0.5, 3.5])
    np.testing.assert_allclose(ax.get_xticks(), [1.0, 5.0, 9.0])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]
    # without labels both axes stay bare
    ax = plot.image_grid(images, nrow=3)
    assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0


def test_image_grid_rejects_bad_labels():
    images = torch.zeros(4, 8, 8)
    with pytest.raises(ValueError, match="row_labels"):
        plot.image_grid(images, nrow=2, row_labels=["only one"])
    with pytest.raises(ValueError, match="col_labels"):
        plot.image_grid(images, nrow=2, col_labels=["a", 2])
    with pytest.raises(TypeError, match="row_labels"):
        plot.image_grid(images, nrow=2, row_labels="ab")

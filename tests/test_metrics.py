"""gentorch.metrics: the digits classifier, checked against the data it was trained on,
and mode coverage, checked against brute force and scipy.

Training takes seconds, once per process: only the first test clears the cache and
trains afresh; every other test reads the cached weights.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats
import torch

import gentorch as gt
from gentorch import metrics
from gentorch.data import digits

# every test here runs on one thread (conftest.one_thread)
pytestmark = pytest.mark.usefixtures("one_thread")


def test_digits_classifier_leaves_the_callers_random_state_alone():
    metrics.classifier._shipped_state.cache_clear()
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    result = metrics.digits_classifier()  # reads the shipped weights
    after_loading = torch.get_rng_state()
    metrics.digits_classifier()  # cached
    after_cached = torch.get_rng_state()
    assert isinstance(result, metrics.DigitsClassifierResult)
    assert torch.equal(after_loading, before)
    assert torch.equal(after_cached, before)


def test_the_recipe_retrains_a_classifier_like_the_shipped_one():
    # floating point differs between machines and thread counts, so a retrained
    # copy is compared by what it does, not bit for bit
    torch.manual_seed(99)
    before = torch.get_rng_state()
    retrained = metrics.train_digits_classifier()
    assert torch.equal(torch.get_rng_state(), before)
    assert not retrained.training
    shipped = metrics.digits_classifier().model
    test = digits("test")
    with torch.no_grad():
        ours, theirs = retrained(test.x).argmax(1), shipped(test.x).argmax(1)
    assert (ours == test.y).double().mean() >= 0.97
    assert (ours == theirs).double().mean() >= 0.97
    state = metrics.classifier._shipped_state()[0]
    assert set(state) == set(retrained.state_dict())


def test_digits_classifier_is_accurate_on_the_test_split():
    model, accuracy = metrics.digits_classifier()
    assert type(accuracy) is float and accuracy >= 0.97
    # the reported accuracy is the one measured again on digits("test")
    test = digits("test")
    assert len(test.x) == 270
    with torch.no_grad():
        predictions = model(test.x).argmax(dim=1)
    assert accuracy == pytest.approx((predictions == test.y).double().mean().item())


def test_digits_classifier_returns_fresh_copies_of_the_same_weights():
    first, second = metrics.digits_classifier().model, metrics.digits_classifier().model
    assert first is not second
    state1, state2 = first.state_dict(), second.state_dict()
    assert state1.keys() == state2.keys()
    for name in state1:
        assert torch.equal(state1[name], state2[name]), name
        assert state1[name].data_ptr() != state2[name].data_ptr(), name
    # changing one copy leaves the other, and later calls, alone
    with torch.no_grad():
        first.head.bias.add_(1.0)
    third = metrics.digits_classifier().model
    assert torch.equal(third.head.bias, second.head.bias)
    assert not torch.equal(first.head.bias, second.head.bias)


def test_digits_classifier_is_in_eval_mode_on_the_cpu():
    model = metrics.digits_classifier().model
    assert isinstance(model, metrics.DigitsClassifier)
    assert not any(module.training for module in model.modules())
    assert all(p.device.type == "cpu" for p in model.parameters())
    x = digits("test").x[:32]
    with torch.no_grad():
        # dropout is off: two passes agree exactly
        assert torch.equal(model(x), model(x))


def test_digits_classifier_features_and_logits():
    model = metrics.digits_classifier().model
    x = digits("train").x[:7]
    with torch.no_grad():
        features, logits = model.features(x), model(x)
    assert features.shape == (7, 128) == (7, model.feature_dim)
    assert features.dtype == torch.float32 and (features >= 0).all()  # after a ReLU
    assert logits.shape == (7, 10)
    # the logits are the head read off the features
    torch.testing.assert_close(logits, model.head(features))
    # probabilities favour the true class on training digits
    labels = digits("train").y[:7]
    assert (logits.argmax(dim=1) == labels).float().mean() >= 6 / 7


def test_digits_classifier_rejects_bad_input():
    model = metrics.digits_classifier().model
    for shape in ((4, 8, 8), (4, 1, 28, 28), (4, 3, 8, 8), (64,)):
        with pytest.raises(ValueError, match=r"x must have shape \(B, 1, 8, 8\)"):
            model(torch.zeros(shape))
        with pytest.raises(ValueError, match=r"x must have shape \(B, 1, 8, 8\)"):
            model.features(torch.zeros(shape))
    with pytest.raises(TypeError, match="x must be a floating"):
        model(torch.zeros(4, 1, 8, 8, dtype=torch.uint8))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        model.features([[0.0] * 8] * 8)


def _coverage_by_hand(samples, centers, std):
    """Brute force: loop over samples and centres in plain Python."""
    counts = [0] * len(centers)
    hq = 0
    for point in samples.tolist():
        dists = [math.dist(point, c) for c in centers.tolist()]
        k = min(range(len(dists)), key=dists.__getitem__)
        if dists[k] < 3 * std:
            hq += 1
            counts[k] += 1
    return counts, hq


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mode_coverage_matches_brute_force_and_scipy(seed):
    g = torch.Generator().manual_seed(seed)
    centers = gt.data.grid_centers(dtype=torch.float64)
    # a collapsed, noisy generator: a few modes, some points far from any mode
    picks = torch.randint(0, 7, (300,), generator=g)
    samples = centers[picks] + 0.12 * torch.randn(
        300, 2, generator=g, dtype=torch.float64
    )
    got = metrics.mode_coverage(samples, centers, 0.05)
    counts, hq = _coverage_by_hand(samples, centers, 0.05)
    assert got.modes == sum(c > 0 for c in counts)
    assert got.hq_fraction == pytest.approx(hq / 300)
    p = np.array(counts, dtype=float) / hq
    want = scipy.stats.entropy(p, np.full(len(counts), 1 / len(counts)))
    assert got.reverse_kl == pytest.approx(want, rel=1e-9)


def test_mode_coverage_extremes():
    centers = gt.data.ring_centers(dtype=torch.float64)
    # one sample on every centre: all modes, all HQ, balanced
    full = metrics.mode_coverage(centers.clone(), centers, 0.01)
    assert full == (8, 1.0, pytest.approx(0.0, abs=1e-12))
    # everything on one centre: one mode, reverse KL = log K
    one = metrics.mode_coverage(centers[:1].repeat(5, 1), centers, 0.01)
    assert one.modes == 1 and one.reverse_kl == pytest.approx(math.log(8))
    # nothing close to a centre: no HQ sample, reverse KL undefined -> inf
    far = metrics.mode_coverage(torch.zeros(4, 2, dtype=torch.float64), centers, 0.01)
    assert far == (0, 0.0, math.inf)


def test_mode_coverage_ceiling_of_real_2d_data():
    # a real sample is HQ with probability P(r < 3 sigma) = 1 - exp(-4.5) in 2-D
    g = torch.Generator().manual_seed(0)
    n = 200_000
    samples = gt.data.ring(n, std=0.01, generator=g)
    got = metrics.mode_coverage(samples, gt.data.ring_centers(), 0.01)
    ceiling = 1 - math.exp(-4.5)
    assert abs(got.hq_fraction - ceiling) < 4 * math.sqrt(ceiling * (1 - ceiling) / n)
    assert got.modes == 8 and got.reverse_kl < 1e-3


def test_mode_coverage_rejects_bad_input():
    centers = gt.data.ring_centers()
    points = torch.zeros(3, 2)
    for std in (0.0, -1.0):
        with pytest.raises(ValueError, match="std"):
            metrics.mode_coverage(points, centers, std)
    with pytest.raises(ValueError, match="same dimension"):
        metrics.mode_coverage(torch.zeros(3, 3), centers, 0.01)
    with pytest.raises(ValueError, match="must not be empty"):
        metrics.mode_coverage(torch.zeros(0, 2), centers, 0.01)
    with pytest.raises(ValueError, match="must not be empty"):
        metrics.mode_coverage(points, torch.zeros(0, 2), 0.01)
    with pytest.raises(ValueError, match="samples must have shape"):
        metrics.mode_coverage(torch.zeros(3), centers, 0.01)
    with pytest.raises(TypeError, match="samples must be a floating"):
        metrics.mode_coverage(torch.zeros(3, 2, dtype=torch.int64), centers, 0.01)
    with pytest.raises(TypeError, match="std"):
        metrics.mode_coverage(points, centers, "0.01")


# --- Fréchet distance -----------------------------------------------------------------


def test_frechet_distance_matches_scipy_sqrtm():
    linalg = pytest.importorskip("scipy.linalg")
    import numpy as np

    from gentorch.metrics import frechet_distance

    gen = torch.Generator().manual_seed(0)
    a = torch.randn(400, 6, generator=gen, dtype=torch.float64) @ torch.randn(
        6, 6, generator=gen, dtype=torch.float64
    )
    b = 0.5 + torch.randn(300, 6, generator=gen, dtype=torch.float64)
    cov_a, cov_b = np.cov(a.numpy().T), np.cov(b.numpy().T)
    root = linalg.sqrtm(cov_a @ cov_b).real
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum().item() + np.trace(
        cov_a + cov_b - 2 * root
    )
    assert frechet_distance(a, b).item() == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_closed_form_and_invariants():
    from gentorch.metrics import frechet_distance

    gen = torch.Generator().manual_seed(1)
    # diagonal Gaussians: ||m_a - m_b||^2 + sum (s_a - s_b)^2, up to sampling error
    n = 200_000
    a = torch.randn(n, 3, generator=gen) * torch.tensor([1.0, 2.0, 0.5])
    b = torch.randn(n, 3, generator=gen) * torch.tensor([2.0, 2.0, 1.0]) + 1.0
    expected = 3 * 1.0 + (1 - 2) ** 2 + 0 + (0.5 - 1) ** 2
    assert frechet_distance(a, b).item() == pytest.approx(expected, abs=0.05)
    # zero against itself, symmetric, float64
    d = frechet_distance(a[:500], a[:500])
    assert d.dtype == torch.float64 and abs(d.item()) < 1e-8
    torch.testing.assert_close(
        frechet_distance(a[:500], b[:400]), frechet_distance(b[:400], a[:500])
    )


def test_frechet_distance_of_one_feature_is_the_1d_closed_form():
    from gentorch.metrics import frechet_distance

    gen = torch.Generator().manual_seed(0)
    a = 1.0 + 2.0 * torch.randn(50_000, 1, generator=gen, dtype=torch.float64)
    b = -0.5 + 0.5 * torch.randn(50_000, 1, generator=gen, dtype=torch.float64)
    # (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2 with the samples' own moments
    expected = (a.mean() - b.mean()) ** 2 + (a.std() - b.std()) ** 2
    torch.testing.assert_close(frechet_distance(a, b), expected)


def test_frechet_distance_bad_input():
    from gentorch.metrics import frechet_distance

    with pytest.raises(ValueError, match="shape"):
        frechet_distance(torch.zeros(5, 3), torch.zeros(5, 4))
    with pytest.raises(ValueError, match="at least 2 rows"):
        frechet_distance(torch.zeros(1, 3), torch.zeros(5, 3))
    with pytest.raises(TypeError, match="floating"):
        frechet_distance(torch.zeros(5, 3, dtype=torch.long), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="finite"):
        frechet_distance(torch.full((5, 3), float("nan")), torch.zeros(5, 3))


class _PassThrough(torch.nn.Module):
    """torchmetrics' feature extractor for inputs that are already the features
    (or logits); num_features is what its FID asks of a custom module."""

    num_features = 128

    def forward(self, x):
        return x


def test_inception_score_matches_torchmetrics_and_its_bounds():
    from gentorch.metrics import inception_score

    tm_inception = pytest.importorskip("torchmetrics.image.inception")

    gen = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(400, 10, generator=gen, dtype=torch.float64)
    with warnings.catch_warnings():
        # torchmetrics warns that it keeps every feature, and that the std of one
        # split is undefined; only the mean is compared
        warnings.simplefilter("ignore")
        reference = tm_inception.InceptionScore(feature=_PassThrough(), splits=1)
        reference.update(logits)
        expected = reference.compute()[0]
    torch.testing.assert_close(inception_score(logits), expected, rtol=1e-6, atol=0)
    # one class for every sample, or no confidence at all: IS = 1
    same = torch.zeros(50, 10, dtype=torch.float64)
    torch.testing.assert_close(inception_score(same), torch.tensor(1.0).double())
    # confident and evenly spread over the K classes: IS = K
    even = 50.0 * torch.eye(10, dtype=torch.float64).repeat(5, 1)
    torch.testing.assert_close(
        inception_score(even), torch.tensor(10.0).double(), rtol=1e-6, atol=0
    )


def _noisy_pair(shape, noise, seed):
    """Images x uniform in [-1, 1] and y = x + noise * N(0, I), clamped: float64."""
    gen = torch.Generator().manual_seed(seed)
    x = 2 * torch.rand(shape, generator=gen, dtype=torch.float64) - 1
    y = x + noise * torch.randn(shape, generator=gen, dtype=torch.float64)
    return x, y.clamp(-1, 1)


def test_psnr_matches_torchmetrics_and_the_closed_form():
    from gentorch.metrics import psnr

    tm_image = pytest.importorskip("torchmetrics.image")
    x, y = _noisy_pair((6, 1, 8, 8), 0.1, seed=0)
    reference = tm_image.PeakSignalNoiseRatio(
        data_range=2.0, reduction=None, dim=(1, 2, 3)
    )
    reference.update(x, y)
    torch.testing.assert_close(
        psnr(x, y, data_range=2.0), reference.compute().double(), rtol=1e-6, atol=0
    )
    # an offset of c everywhere: MSE = c^2, PSNR = 20 log10(range / c)
    out = psnr(x + 0.25, x, data_range=2.0)
    torch.testing.assert_close(
        out, torch.full((6,), 20 * math.log10(2 / 0.25)).double()
    )
    assert psnr(x, x, data_range=2.0).isinf().all()


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.5])
def test_ssim_matches_torchmetrics(sigma):
    from gentorch.metrics import ssim

    tm = pytest.importorskip("torchmetrics.functional.image")
    x, y = _noisy_pair((5, 2, 8, 9), 0.3, seed=1)
    expected = tm.structural_similarity_index_measure(
        y, x, sigma=sigma, data_range=2.0, reduction="none"
    )
    torch.testing.assert_close(
        ssim(y, x, data_range=2.0, sigma=sigma), expected, rtol=1e-6, atol=1e-9
    )


def test_ssim_closed_forms():
    from gentorch.metrics import ssim

    gen = torch.Generator().manual_seed(2)
    x = torch.rand(3, 1, 8, 8, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(ssim(x, x, data_range=1.0), torch.ones(3).double())
    # flat images a, b: no variance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    a, b = 0.2, 0.7
    flat_a = torch.full((1, 1, 8, 8), a, dtype=torch.float64)
    flat_b = torch.full((1, 1, 8, 8), b, dtype=torch.float64)
    c1 = 0.01**2
    torch.testing.assert_close(
        ssim(flat_a, flat_b, data_range=1.0).item(),
        (2 * a * b + c1) / (a**2 + b**2 + c1),
    )
    # symmetric, and falling as the same noise is scaled up
    noise = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(
        ssim(x, x + noise, data_range=1.0), ssim(x + noise, x, data_range=1.0)
    )
    values = [ssim(x, x + s * noise, data_range=1.0) for s in (0.05, 0.2, 0.8)]
    assert (values[0] > values[1]).all() and (values[1] > values[2]).all()


def test_ssim_bad_input():
    from gentorch.metrics import ssim

    with pytest.raises(ValueError, match="shape"):
        ssim(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 7), data_range=1.0)
    with pytest.raises(ValueError, match="x"):
        ssim(torch.zeros(2, 8, 8), torch.zeros(2, 8, 8), data_range=1.0)
    with pytest.raises(ValueError, match="data_range"):
        ssim(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 8), data_range=-1.0)
    with pytest.raises(ValueError, match="sigma"):
        ssim(torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 8), data_range=1, sigma=3)


def _brute_force_precision_recall(real, fake, k):
    def covered(points, centres):
        inside = []
        for p in points:
            hit = False
            for c in centres:
                others = sorted(float((c - o).norm()) for o in centres)
                if float((p - c).norm()) <= others[k]:
                    hit = True
                    break
            inside.append(hit)
        return sum(inside) / len(inside)

    return covered(fake, real), covered(real, fake)


def test_precision_recall_against_brute_force_and_extreme_cases():
    from gentorch.metrics import precision_recall

    gen = torch.Generator().manual_seed(0)
    real = torch.randn(40, 3, generator=gen, dtype=torch.float64)
    fake = 0.5 + 1.5 * torch.randn(30, 3, generator=gen, dtype=torch.float64)
    ours = precision_recall(real, fake, k=3)
    expected = _brute_force_precision_recall(real, fake, 3)
    assert ours.precision == pytest.approx(expected[0])
    assert ours.recall == pytest.approx(expected[1])
    # a wider, shifted fake cloud: it covers the reals (recall) better than it
    # stays among them (precision)
    assert 0 < ours.precision < ours.recall
    # the same set: everything covered
    assert precision_recall(real, real, k=3) == (1.0, 1.0)
    # far apart: nothing covered
    assert precision_recall(real, real + 100, k=3) == (0.0, 0.0)
    # collapse onto one real point: every fake sample is real-looking, but the
    # fake balls (radius ~ 0) cover only that point's neighbourhood
    collapsed = real[:1] + 1e-3 * torch.randn(30, 3, generator=gen, dtype=torch.float64)
    p, r = precision_recall(real, collapsed, k=3)
    assert p == 1.0 and r <= 2 / 40


def test_new_metrics_bad_input():
    from gentorch.metrics import inception_score, precision_recall, psnr

    with pytest.raises(ValueError, match="K >= 2"):
        inception_score(torch.zeros(5, 1))
    with pytest.raises(ValueError, match="shape"):
        psnr(torch.zeros(2, 3), torch.zeros(2, 4), data_range=1.0)
    with pytest.raises(ValueError, match="data_range"):
        psnr(torch.zeros(2, 3), torch.zeros(2, 3), data_range=0.0)
    with pytest.raises(ValueError, match="more than k=3"):
        precision_recall(torch.zeros(3, 2), torch.zeros(10, 2))
    with pytest.raises(ValueError, match="shape"):
        precision_recall(torch.zeros(10, 2), torch.zeros(10, 3))


def test_frechet_distance_matches_torchmetrics_fid_on_the_digits_features():
    from gentorch.data import digits
    from gentorch.metrics import digits_classifier, frechet_distance

    tm_fid = pytest.importorskip("torchmetrics.image.fid")

    classifier = digits_classifier().model
    with torch.no_grad():
        val, test = (classifier.features(digits(s).x).double() for s in ("val", "test"))
    reference = tm_fid.FrechetInceptionDistance(feature=_PassThrough())
    reference.set_dtype(torch.float64)
    reference.update(val, real=True)
    reference.update(test, real=False)
    expected = reference.compute()
    torch.testing.assert_close(frechet_distance(val, test), expected, rtol=1e-4, atol=0)

"""gentorch.gan against written-out formulas, torch's BCE, autograd and D* = p/(p+q)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gentorch import gan
from gentorch.utils import count_parameters, rand, randn

D_KINDS = ("standard", "wasserstein", "hinge")
G_KINDS = ("non_saturating", "saturating", "wasserstein", "hinge")


def logits(*shape, seed, scale=4.0, dtype=torch.float64):
    return scale * torch.randn(
        *shape, generator=torch.Generator().manual_seed(seed), dtype=dtype
    )


def softplus_by_hand(x):
    """log(1 + e^x), one Python float at a time (exact for |x| <= 700)."""
    return torch.tensor(
        [math.log1p(math.exp(v)) for v in x.flatten().tolist()], dtype=torch.float64
    ).reshape(x.shape)


def d_loss_formula(kind, real, fake):
    """Each discriminator loss as the papers write it, elementwise, in float64."""
    real, fake = real.double(), fake.double()
    if kind == "standard":  # -log D(x) - log(1 - D(G(z)))
        return -torch.log(torch.sigmoid(real)) - torch.log(1 - torch.sigmoid(fake))
    if kind == "wasserstein":
        return fake - real
    return torch.clamp(1 - real, min=0) + torch.clamp(1 + fake, min=0)


def g_loss_formula(kind, fake):
    fake = fake.double()
    if kind == "non_saturating":  # -log D(G(z))
        return -torch.log(torch.sigmoid(fake))
    if kind == "saturating":  # log(1 - D(G(z)))
        return torch.log(1 - torch.sigmoid(fake))
    return -fake


# ---------------------------------------------------------------------------- losses


@pytest.mark.parametrize("kind", D_KINDS)
def test_discriminator_loss_matches_its_formula(kind):
    real, fake = logits(50, seed=0), logits(50, seed=1)
    got = gan.discriminator_loss(real, fake, kind=kind)
    assert got.shape == (50,) and got.dtype == torch.float64
    torch.testing.assert_close(
        got, d_loss_formula(kind, real, fake), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("kind", G_KINDS)
def test_generator_loss_matches_its_formula(kind):
    fake = logits(50, seed=2)
    got = gan.generator_loss(fake, kind=kind)
    assert got.shape == (50,) and got.dtype == torch.float64
    torch.testing.assert_close(got, g_loss_formula(kind, fake), rtol=1e-10, atol=1e-12)


def test_standard_and_non_saturating_losses_are_torch_bce_with_logits():
    real, fake = logits(64, seed=3, dtype=torch.float32), logits(64, seed=4)
    fake = fake.float()
    ones, zeros = torch.ones(64), torch.zeros(64)
    bce = F.binary_cross_entropy_with_logits
    want_d = bce(real, ones, reduction="none") + bce(fake, zeros, reduction="none")
    torch.testing.assert_close(gan.discriminator_loss(real, fake), want_d)
    want_g = bce(fake, ones, reduction="none")
    torch.testing.assert_close(gan.generator_loss(fake), want_g)
    # the saturating loss is minus the BCE towards the label 0
    want_sat = -bce(fake, zeros, reduction="none")
    torch.testing.assert_close(gan.generator_loss(fake, kind="saturating"), want_sat)


def test_losses_stay_finite_and_exact_for_confident_logits():
    big = torch.tensor([-200.0, -50.0, 0.0, 50.0, 200.0])
    # the naive route overflows in float32: log(sigmoid(-200)) = log(0) = -inf
    assert torch.isinf(torch.log(torch.sigmoid(big))).any()
    assert torch.isinf(torch.log(1 - torch.sigmoid(big))).any()
    # -log sigmoid(l) = log(1 + e^-l) and -log(1 - sigmoid(l)) = log(1 + e^l)
    want_std = softplus_by_hand(-big) + softplus_by_hand(big)
    want_ns, want_sat = softplus_by_hand(-big), -softplus_by_hand(big)
    for dtype, atol in ((torch.float32, 1e-30), (torch.float64, 0)):
        x = big.to(dtype)
        std = gan.discriminator_loss(x, x)
        ns = gan.generator_loss(x, kind="non_saturating")
        sat = gan.generator_loss(x, kind="saturating")
        for value in (std, ns, sat):
            assert torch.isfinite(value).all()
        # e^-200 = 1.4e-87 underflows to 0 in float32: hence atol there
        torch.testing.assert_close(std.double(), want_std, rtol=1e-6, atol=atol)
        torch.testing.assert_close(ns.double(), want_ns, rtol=1e-6, atol=atol)
        torch.testing.assert_close(sat.double(), want_sat, rtol=1e-6, atol=atol)
        for kind in ("wasserstein", "hinge"):
            assert torch.isfinite(gan.discriminator_loss(x, x, kind=kind)).all()


def test_saturating_loss_is_flat_where_the_discriminator_rejects_the_fakes():
    # with s = sigmoid(l): d/dl [-log s] = -(1 - s) and d/dl [log(1 - s)] = -s
    fake = torch.tensor([-10.0, 0.0, 10.0], dtype=torch.float64, requires_grad=True)
    (grad_ns,) = torch.autograd.grad(gan.generator_loss(fake).sum(), fake)
    (grad_sat,) = torch.autograd.grad(
        gan.generator_loss(fake, kind="saturating").sum(), fake
    )
    s = torch.sigmoid(fake.detach())
    torch.testing.assert_close(grad_ns, -(1 - s))
    torch.testing.assert_close(grad_sat, -s)
    assert abs(grad_sat[0]) < 1e-4 < 0.99 < abs(grad_ns[0])


def test_patch_maps_are_averaged_to_one_loss_per_image():
    real, fake = logits(3, 4, 5, seed=5), logits(3, 4, 5, seed=6)
    for kind in D_KINDS:
        got = gan.discriminator_loss(real, fake, kind=kind)
        want = d_loss_formula(kind, real, fake).mean(dim=(1, 2))
        assert got.shape == (3,)
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    for kind in G_KINDS:
        got = gan.generator_loss(fake, kind=kind)
        want = g_loss_formula(kind, fake).mean(dim=(1, 2))
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_losses_follow_the_input_dtype_and_device(dtype):
    x = logits(6, seed=7, dtype=dtype)
    for kind in D_KINDS:
        assert gan.discriminator_loss(x, x, kind=kind).dtype == dtype
    for kind in G_KINDS:
        assert gan.generator_loss(x, kind=kind).dtype == dtype
    # meta stands in for an accelerator
    m = torch.empty(6, 2, 2, device="meta", dtype=dtype)
    for kind in D_KINDS:
        out = gan.discriminator_loss(m, m, kind=kind)
        assert out.is_meta and out.shape == (6,) and out.dtype == dtype
    for kind in G_KINDS:
        out = gan.generator_loss(m, kind=kind)
        assert out.is_meta and out.shape == (6,) and out.dtype == dtype


def test_losses_reject_bad_input():
    x = torch.zeros(4)
    with pytest.raises(ValueError, match="'standard', 'wasserstein', 'hinge'"):
        gan.discriminator_loss(x, x, kind="least_squares")
    with pytest.raises(
        ValueError, match="'non_saturating', 'saturating', 'wasserstein', 'hinge'"
    ):
        gan.generator_loss(x, kind="standard")
    with pytest.raises(ValueError, match="same shape"):
        gan.discriminator_loss(x, torch.zeros(5))
    with pytest.raises(ValueError, match="same shape"):
        gan.discriminator_loss(torch.zeros(4, 2, 2), torch.zeros(4, 4))
    with pytest.raises(ValueError, match="scalar"):
        gan.discriminator_loss(torch.tensor(0.0), torch.tensor(0.0))
    with pytest.raises(ValueError, match="scalar"):
        gan.generator_loss(torch.tensor(0.0))
    for bad in (torch.zeros(4, dtype=torch.int64), torch.zeros(4, dtype=torch.bool)):
        with pytest.raises(TypeError, match="logits_real must be a floating"):
            gan.discriminator_loss(bad, x)
        with pytest.raises(TypeError, match="logits_fake must be a floating"):
            gan.discriminator_loss(x, bad)
        with pytest.raises(TypeError, match="logits_fake must be a floating"):
            gan.generator_loss(bad)
    with pytest.raises(TypeError, match="torch.Tensor"):
        gan.generator_loss([0.0, 1.0])


# ------------------------------------------------------------------ gradient penalty


def linear_critic(w):
    return lambda x: x.flatten(1) @ w  # (B, ...) -> (B,)


def data_pair(shape, seed):
    g = torch.Generator().manual_seed(seed)
    real = torch.randn(shape, generator=g, dtype=torch.float64)
    fake = 3 * torch.randn(shape, generator=g, dtype=torch.float64) - 1
    return real, fake


def test_gradient_penalty_of_a_linear_critic_is_its_slope_error():
    real, fake = data_pair((7, 3, 2, 2), seed=0)
    w = torch.randn(12, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    # exactly 1-Lipschitz: nothing to penalise
    unit = gan.gradient_penalty(linear_critic(w / w.norm()), real, fake)
    assert unit.shape == (7,) and unit.dtype == torch.float64
    torch.testing.assert_close(
        unit, torch.zeros(7, dtype=torch.float64), atol=1e-24, rtol=0
    )
    for scale in (0.1, 2.0, 7.5):
        got = gan.gradient_penalty(linear_critic(scale * w / w.norm()), real, fake)
        torch.testing.assert_close(
            got, torch.full((7,), (scale - 1) ** 2, dtype=torch.float64)
        )


def test_gradient_penalty_matches_brute_force_autograd_at_the_same_points():
    real, fake = data_pair((6, 2, 3), seed=2)
    torch.manual_seed(3)
    D = gan.MLPDiscriminator((2, 3), hidden=(16, 16)).double()
    critic = lambda x: torch.tanh(D(x)) + (x**3).sum(dim=(1, 2))  # noqa: E731
    got = gan.gradient_penalty(
        critic, real, fake, generator=torch.Generator().manual_seed(4)
    )
    # the same u: one uniform per example, drawn by gt.utils.rand with shape (B, 1, 1)
    u = rand((6, 1, 1), generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    assert ((0 <= u) & (u < 1)).all()
    want = []
    for i in range(6):
        x_hat = (u[i] * real[i] + (1 - u[i]) * fake[i])[None].requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x_hat)[0], x_hat)
        want.append((math.sqrt((grad**2).sum().item()) - 1) ** 2)
    torch.testing.assert_close(got, torch.tensor(want, dtype=torch.float64))
    # another seed, other points, another penalty
    other = gan.gradient_penalty(
        critic, real, fake, generator=torch.Generator().manual_seed(5)
    )
    assert not torch.allclose(got, other)


def test_gradient_penalty_is_differentiable_in_the_critic_parameters():
    real, fake = data_pair((5, 4), seed=6)
    w = torch.tensor([0.5, -1.0, 2.0, 0.25], dtype=torch.float64, requires_grad=True)
    penalty = gan.gradient_penalty(linear_critic(w), real, fake)
    penalty.mean().backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    norm = w.detach().norm()
    torch.testing.assert_close(w.grad, 2 * (norm - 1) * w.detach() / norm)
    # and through a network: every weight of the critic gets a gradient; with leaky
    # ReLUs grad_x D is piecewise constant in the biases, whose gradient is then 0
    torch.manual_seed(7)
    D = gan.MLPDiscriminator((4,), hidden=(8, 8)).double()
    gan.gradient_penalty(D, real, fake).mean().backward()
    for name, p in D.named_parameters():
        if name.endswith("bias"):  # the head's bias is not even in the graph
            assert p.grad is None or (p.grad == 0).all(), name
        else:
            assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_gradient_penalty_rejects_bad_input():
    D = linear_critic(torch.ones(3))
    with pytest.raises(ValueError, match="same shape"):
        gan.gradient_penalty(D, torch.zeros(4, 3), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="at least one data dimension"):
        gan.gradient_penalty(D, torch.zeros(4), torch.zeros(4))
    with pytest.raises(TypeError, match="real must be a floating"):
        gan.gradient_penalty(D, torch.zeros(4, 3, dtype=torch.int64), torch.zeros(4, 3))
    with pytest.raises(TypeError, match="fake must be a torch.Tensor"):
        gan.gradient_penalty(D, torch.zeros(4, 3), [[0.0] * 3] * 4)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        gan.gradient_penalty(D, torch.zeros(4, 3), torch.zeros(4, 3), generator=0)


# ------------------------------------------------------------------ optimal D on 1-D


@pytest.fixture
def one_thread():
    """Tiny networks train fastest on one thread (and far faster on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_trained_discriminator_recovers_the_optimal_d_star(one_thread):
    # Goodfellow et al. (2014, prop. 1): D*(x) = p(x) / (p(x) + q(x))
    p, q = torch.distributions.Normal(0.0, 1.0), torch.distributions.Normal(1.5, 1.0)
    torch.manual_seed(0)
    D = gan.MLPDiscriminator((1,), hidden=(32, 32))
    optimizer = torch.optim.Adam(D.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, 130, gamma=0.3)
    g = torch.Generator().manual_seed(0)
    for _ in range(400):
        real = p.mean + p.stddev * torch.randn(512, 1, generator=g)
        fake = q.mean + q.stddev * torch.randn(512, 1, generator=g)
        loss = gan.discriminator_loss(D(real), D(fake)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    x = torch.linspace(-1.0, 2.5, 36)  # both densities above 0.05 here
    with torch.no_grad():
        got = torch.sigmoid(D(x[:, None]))
    log_p, log_q = p.log_prob(x), q.log_prob(x)
    want = (log_p - torch.logaddexp(log_p, log_q)).exp()
    torch.testing.assert_close(got, want, atol=0.05, rtol=0)


# ------------------------------------------------------------------------ networks


def make_networks(num_classes=None):
    """One of each generator and discriminator, all for 8x8 digits."""
    torch.manual_seed(0)
    return {
        "mlp_g": gan.MLPGenerator(
            5,
            (1, 8, 8),
            hidden=(16,),
            output_activation="tanh",
            num_classes=num_classes,
        ),
        "conv_g": gan.ConvGenerator(5, channels=(16, 8), num_classes=num_classes),
        "mlp_d": gan.MLPDiscriminator(
            (1, 8, 8), hidden=(16, 8), num_classes=num_classes
        ),
        "conv_d": gan.ConvDiscriminator(
            channels=(8, 16), feature_dim=12, num_classes=num_classes
        ),
    }


def network_input(name, batch, dtype=torch.float32):
    g = torch.Generator().manual_seed(1)
    shape = (batch, 5) if name.endswith("_g") else (batch, 1, 8, 8)
    return torch.randn(shape, generator=g, dtype=dtype)


@pytest.mark.parametrize("num_classes", [None, 3])
def test_networks_output_shapes(num_classes):
    labels = None if num_classes is None else torch.tensor([0, 2, 1, 2])
    for name, net in make_networks(num_classes).items():
        out = net(network_input(name, 4), labels)
        want = (4, 1, 8, 8) if name.endswith("_g") else (4,)
        assert out.shape == want and out.dtype == torch.float32, name
        if name.endswith("_g"):  # tanh outputs, in the data range
            assert (out.abs() <= 1).all(), name
    x = torch.zeros(2, 3, 4)
    assert gan.MLPGenerator(3, (3, 4))(torch.zeros(2, 3)).shape == (2, 3, 4)
    assert gan.MLPDiscriminator((3, 4))(x).shape == (2,)
    big_g = gan.ConvGenerator(4, image_size=28, channels=(8, 4))
    assert big_g(torch.zeros(2, 4)).shape == (2, 1, 28, 28)
    big_d = gan.ConvDiscriminator(image_size=28, channels=(4, 8), feature_dim=6)
    assert big_d(torch.zeros(2, 1, 28, 28)).shape == (2,)


def test_conditional_networks_depend_on_the_labels():
    for name, net in make_networks(num_classes=4).items():
        x = network_input(name, 1).expand(4, *network_input(name, 1).shape[1:])
        with torch.no_grad():
            out = net(x, torch.arange(4))
        flat = out.reshape(4, -1)
        for i in range(4):
            for j in range(i):
                assert not torch.allclose(flat[i], flat[j]), (name, i, j)


def test_projection_discriminator_adds_the_label_embedding_times_the_features():
    # Miyato & Koyama (2018): D(x, y) - D(x, y') = <e_y - e_y', h(x)>
    nets = make_networks(num_classes=3)
    for name in ("mlp_d", "conv_d"):
        D = nets[name]
        x = network_input(name, 5)
        with torch.no_grad():
            h = D.body(x)
            for y, y2 in ((0, 1), (2, 0)):
                gap = D(x, torch.full((5,), y)) - D(x, torch.full((5,), y2))
                want = h @ (D.embed.weight[y] - D.embed.weight[y2])
                torch.testing.assert_close(gap, want)


def test_networks_work_in_float64():
    for num_classes in (None, 3):
        labels = None if num_classes is None else torch.tensor([0, 1])
        for name, net in make_networks(num_classes).items():
            out = net.double()(network_input(name, 2, torch.float64), labels)
            assert out.dtype == torch.float64, name
    patch = gan.PatchDiscriminator(channels=(4,)).double()
    assert patch(torch.zeros(2, 1, 8, 8, dtype=torch.float64)).dtype == torch.float64


def test_networks_check_their_labels():
    conditional, unconditional = make_networks(3), make_networks(None)
    for name in conditional:
        x = network_input(name, 2)
        with pytest.raises(ValueError, match="labels must be given"):
            conditional[name](x)
        with pytest.raises(ValueError, match="labels must be None"):
            unconditional[name](x, torch.tensor([0, 1]))
        bad_labels = (
            torch.tensor([0.0, 1.0]),
            torch.tensor([True, False]),
            torch.tensor([0, 1], dtype=torch.uint8),
        )
        for bad in bad_labels:
            with pytest.raises(TypeError, match="labels must be an int64 or int32"):
                conditional[name](x, bad)
        for bad in (torch.tensor([0, 3]), torch.tensor([-1, 0])):
            with pytest.raises(ValueError, match=r"labels must lie in 0\.\.2"):
                conditional[name](x, bad)
        with pytest.raises(ValueError, match="labels must have shape"):
            conditional[name](x, torch.tensor([0, 1, 2]))
        with pytest.raises(TypeError, match="labels must be a torch.Tensor"):
            conditional[name](x, [0, 1])
        # int32 labels are integers too
        assert (
            conditional[name](x, torch.tensor([0, 2], dtype=torch.int32)).shape[0] == 2
        )


def test_networks_reject_bad_data_and_arguments():
    nets = make_networks()
    for name in ("mlp_g", "conv_g"):
        with pytest.raises(ValueError, match=r"z must have shape \(B, 5\)"):
            nets[name](torch.zeros(2, 6))
        with pytest.raises(TypeError, match="z must be a floating"):
            nets[name](torch.zeros(2, 5, dtype=torch.int64))
    for name in ("mlp_d", "conv_d"):
        with pytest.raises(ValueError, match="x must have shape"):
            nets[name](torch.zeros(2, 1, 28, 28))
        with pytest.raises(TypeError, match="x must be a floating"):
            nets[name](torch.zeros(2, 1, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match="num_classes"):
        gan.MLPGenerator(2, (2,), num_classes=1)
    with pytest.raises(TypeError, match="num_classes"):
        gan.ConvDiscriminator(num_classes=2.0)
    with pytest.raises(ValueError, match="latent_dim"):
        gan.ConvGenerator(0)
    with pytest.raises(ValueError, match="label_dim"):
        gan.MLPGenerator(2, (2,), num_classes=2, label_dim=0)
    with pytest.raises(ValueError, match="data_shape"):
        gan.MLPGenerator(2, ())
    with pytest.raises(TypeError, match="data_shape"):
        gan.MLPDiscriminator(2)
    with pytest.raises(ValueError, match="data_shape entries"):
        gan.MLPDiscriminator((0, 2))
    with pytest.raises(ValueError, match="hidden must have at least one entry"):
        gan.MLPDiscriminator((2,), hidden=())
    with pytest.raises(ValueError, match="output_activation"):
        gan.MLPGenerator(2, (2,), output_activation="sigmoid")
    with pytest.raises(ValueError, match="image_size"):
        gan.ConvGenerator(2, image_size=16)
    with pytest.raises(ValueError, match="image_size"):
        gan.ConvDiscriminator(image_size=16)
    with pytest.raises(ValueError, match="feature_dim"):
        gan.ConvDiscriminator(feature_dim=0)


# --------------------------------------------------------------- PatchGAN judge


@pytest.mark.parametrize(
    ("channels", "size"),
    [((8,), (6, 10)), ((4, 8), (8, 8)), ((4, 8), (16, 28)), ((2, 4, 8), (24, 40))],
)
def test_patch_discriminator_output_shape(channels, size):
    D = gan.PatchDiscriminator(2, channels=channels)
    n = 2 ** len(channels)
    out = D(torch.zeros(3, 2, *size))
    assert out.shape == (3, size[0] // n, size[1] // n)
    assert gan.discriminator_loss(out, out).shape == (3,)


@pytest.mark.parametrize("channels", [(4,), (4, 8), (2, 4, 8)])
def test_patch_receptive_field_is_the_support_of_one_logits_gradient(channels):
    torch.manual_seed(0)
    D = gan.PatchDiscriminator(2, channels=channels).double()
    x = torch.randn(1, 2, 128, 128, dtype=torch.float64, requires_grad=True)
    out = D(x)
    i, j = out.shape[1] // 2, out.shape[2] // 2  # far from every border
    (grad,) = torch.autograd.grad(out[0, i, j], x)
    seen = grad[0].abs().sum(dim=0) > 0  # (2, H, W) -> (H, W)
    for axis in (1, 0):
        rows = seen.any(dim=axis).nonzero().flatten()
        width = (rows.max() - rows.min() + 1).item()
        assert len(rows) == width  # one window, no holes
        assert rows.min() > 0 and rows.max() < 127  # no border effects
        assert width == D.receptive_field
    # every entry of that window counts: a 4x4 kernel has no zero taps
    assert seen.sum() == D.receptive_field**2


def test_patch_discriminator_parameter_count_ignores_the_image_size():
    D = gan.PatchDiscriminator(3, channels=(8, 16))
    # two 4x4 convolutions and a 3x3 one to a single channel, with biases
    want = (3 * 8 * 16 + 8) + (8 * 16 * 16 + 16) + (16 * 1 * 9 + 1)
    assert count_parameters(D) == want
    for size in (8, 32, 64):
        assert D(torch.zeros(1, 3, size, size)).shape == (1, size // 4, size // 4)
    assert count_parameters(D) == want


def test_patch_discriminator_rejects_bad_input():
    D = gan.PatchDiscriminator(1, channels=(4, 8))
    for size in ((8, 10), (6, 8), (0, 0), (0, 8)):
        with pytest.raises(ValueError, match="positive multiples of 4"):
            D(torch.zeros(2, 1, *size))
    with pytest.raises(ValueError, match="x must have shape"):
        D(torch.zeros(2, 3, 8, 8))
    with pytest.raises(ValueError, match="x must have shape"):
        D(torch.zeros(1, 8, 8))
    with pytest.raises(TypeError, match="x must be a floating"):
        D(torch.zeros(2, 1, 8, 8, dtype=torch.int64))
    with pytest.raises(ValueError, match="channels must have at least one entry"):
        gan.PatchDiscriminator(channels=())
    with pytest.raises(ValueError, match="channels entries"):
        gan.PatchDiscriminator(channels=(4, 0))
    with pytest.raises(TypeError, match="channels"):
        gan.PatchDiscriminator(channels=4)
    with pytest.raises(ValueError, match="in_channels"):
        gan.PatchDiscriminator(0)


# ------------------------------------------------------------------- training steps


def snapshot(module):
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def unchanged(module, before):
    return all(torch.equal(p, before[name]) for name, p in module.named_parameters())


def all_changed(module, before):
    return all(
        not torch.equal(p, before[name]) for name, p in module.named_parameters()
    )


def gan_pair(num_classes=None):
    torch.manual_seed(0)
    G = gan.MLPGenerator(3, (2,), hidden=(8,), num_classes=num_classes)
    D = gan.MLPDiscriminator((2,), hidden=(8, 8), num_classes=num_classes)
    return G, D


REAL = torch.randn(16, 2, generator=torch.Generator().manual_seed(9))


@pytest.mark.parametrize(
    ("kind", "gp_weight", "num_classes"),
    [("standard", 0.0, None), ("hinge", 0.0, 3), ("wasserstein", 10.0, None)],
)
def test_discriminator_step_trains_only_d_and_reports_its_loss(
    kind, gp_weight, num_classes
):
    G, D = gan_pair(num_classes)
    labels = None if num_classes is None else torch.arange(16) % num_classes
    extra = () if labels is None else (labels,)
    # the same step by hand, with D before its update and the same z (and u)
    g = torch.Generator().manual_seed(1)
    z = randn((16, 3), generator=g)
    fake = G(z, *extra).detach()
    l_real, l_fake = D(REAL, *extra), D(fake, *extra)
    want = gan.discriminator_loss(l_real, l_fake, kind=kind).mean()
    if gp_weight:
        critic = lambda x: D(x, *extra)  # noqa: E731
        want = (
            want
            + gp_weight * gan.gradient_penalty(critic, REAL, fake, generator=g).mean()
        )
    g_before, d_before = snapshot(G), snapshot(D)
    optimizer = torch.optim.SGD(D.parameters(), lr=0.1)
    stats = gan.discriminator_step(
        G,
        D,
        optimizer,
        REAL,
        labels=labels,
        kind=kind,
        gp_weight=gp_weight,
        generator=torch.Generator().manual_seed(1),
    )
    assert isinstance(stats, gan.StepStats)
    assert all(type(value) is float for value in stats)
    assert stats.loss == pytest.approx(want.item(), rel=1e-5, abs=1e-6)
    assert stats.d_real == pytest.approx(torch.sigmoid(l_real).mean().item(), rel=1e-5)
    assert stats.d_fake == pytest.approx(torch.sigmoid(l_fake).mean().item(), rel=1e-5)
    assert unchanged(G, g_before)  # bitwise
    assert all(p.grad is None for p in G.parameters())
    assert not unchanged(D, d_before)


def test_discriminator_step_matches_one_sgd_step_on_the_loss_by_hand():
    G, D = gan_pair()
    D_hand = copy.deepcopy(D)
    z = randn((16, 3), generator=torch.Generator().manual_seed(2))
    loss = gan.discriminator_loss(D_hand(REAL), D_hand(G(z).detach())).mean()
    grads = torch.autograd.grad(loss, list(D_hand.parameters()))
    gan.discriminator_step(
        G,
        D,
        torch.optim.SGD(D.parameters(), lr=0.1),
        REAL,
        generator=torch.Generator().manual_seed(2),
    )
    for (name, p), p0, grad in zip(
        D.named_parameters(), D_hand.parameters(), grads, strict=True
    ):
        torch.testing.assert_close(p, p0 - 0.1 * grad, msg=name)


@pytest.mark.parametrize(
    ("kind", "num_classes"),
    [("non_saturating", None), ("saturating", 3), ("hinge", None)],
)
def test_generator_step_trains_only_g_and_restores_d(kind, num_classes):
    G, D = gan_pair(num_classes)
    D.body[1].net[0].weight.requires_grad_(False)  # frozen by the caller beforehand
    flags = [p.requires_grad for p in D.parameters()]
    assert flags.count(False) == 1
    labels = None if num_classes is None else torch.tensor([0, 1, 2, 0, 1])
    extra = () if labels is None else (labels,)
    z = randn((5, 3), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        l_fake = D(G(z, *extra), *extra)
    want = gan.generator_loss(l_fake, kind=kind).mean().item()
    g_before, d_before = snapshot(G), snapshot(D)
    stats = gan.generator_step(
        G,
        D,
        torch.optim.SGD(G.parameters(), lr=0.1),
        5,
        labels=labels,
        kind=kind,
        generator=torch.Generator().manual_seed(3),
    )
    assert all(type(value) is float for value in stats)
    assert math.isnan(stats.d_real)
    assert stats.loss == pytest.approx(want, rel=1e-5, abs=1e-7)
    assert stats.d_fake == pytest.approx(torch.sigmoid(l_fake).mean().item(), rel=1e-5)
    assert unchanged(D, d_before)  # bitwise
    assert all(p.grad is None for p in D.parameters())
    assert [p.requires_grad for p in D.parameters()] == flags
    assert all_changed(G, g_before)


def test_generator_step_restores_d_flags_when_it_fails():
    G, D = gan_pair()
    D.head.bias.requires_grad_(False)
    flags = [p.requires_grad for p in D.parameters()]
    optimizer = torch.optim.SGD(G.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="kind must be one of"):
        gan.generator_step(G, D, optimizer, 4, kind="standard")
    assert [p.requires_grad for p in D.parameters()] == flags


def test_generator_step_in_float64_follows_g():
    G, D = gan_pair()
    G, D = G.double(), D.double()
    stats = gan.generator_step(G, D, torch.optim.SGD(G.parameters(), lr=0.1), 3)
    assert math.isfinite(stats.loss) and 0 < stats.d_fake < 1
    real = REAL.double()
    stats = gan.discriminator_step(G, D, torch.optim.SGD(D.parameters(), lr=0.1), real)
    assert math.isfinite(stats.loss) and 0 < stats.d_real < 1


def test_steps_reject_bad_input():
    G, D = gan_pair()
    optimizer = torch.optim.SGD(G.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="batch_size"):
        gan.generator_step(G, D, optimizer, 0)
    with pytest.raises(TypeError, match="batch_size"):
        gan.generator_step(G, D, optimizer, 4.0)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        gan.generator_step(G, D, optimizer, 4, generator=1)
    d_opt = torch.optim.SGD(D.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="kind must be one of"):
        gan.discriminator_step(G, D, d_opt, REAL, kind="non_saturating")
    with pytest.raises(ValueError, match="labels must be None"):
        gan.discriminator_step(
            G, D, d_opt, REAL, labels=torch.zeros(16, dtype=torch.int64)
        )
    Gc, Dc = gan_pair(num_classes=3)
    with pytest.raises(ValueError, match="labels must be given"):
        gan.generator_step(Gc, Dc, torch.optim.SGD(Gc.parameters(), lr=0.1), 4)
    with pytest.raises(ValueError, match="labels must have shape"):
        gan.generator_step(
            Gc,
            Dc,
            torch.optim.SGD(Gc.parameters(), lr=0.1),
            4,
            labels=torch.tensor([0]),
        )


def test_losses_of_an_empty_batch_of_patch_maps_are_empty():
    empty = torch.zeros(0, 4, 4)
    assert gan.discriminator_loss(empty, empty).shape == (0,)
    assert gan.generator_loss(empty).shape == (0,)


def test_pack_puts_consecutive_examples_side_by_side():
    points = torch.randn(6, 2)
    packed = gan.pack(points, 3)
    # brute force: concatenate each run of 3 consecutive points
    want = torch.stack([torch.cat(list(points[i : i + 3])) for i in (0, 3)])
    torch.testing.assert_close(packed, want, rtol=0, atol=0)
    images = torch.randn(4, 1, 8, 8)
    packed = gan.pack(images, 2)
    assert packed.shape == (2, 2, 8, 8)
    torch.testing.assert_close(packed[1, 1], images[3, 0], rtol=0, atol=0)
    assert gan.pack(points, 1) is not None and gan.pack(points, 1).shape == (6, 2)
    with pytest.raises(ValueError, match="multiple of m=4"):
        gan.pack(points, 4)
    with pytest.raises(ValueError, match="m must be an int >= 1"):
        gan.pack(points, 0)
    with pytest.raises(ValueError, match=r"shape \(B, F, ...\)"):
        gan.pack(torch.zeros(4), 2)


def test_minibatch_std_appends_the_mean_batch_std():
    x = torch.randn(16, 3, dtype=torch.float64)
    out = gan.MinibatchStd()(x)
    want = np.std(x.numpy(), axis=0).mean()  # numpy's population std
    torch.testing.assert_close(out[:, :3], x)
    torch.testing.assert_close(out[:, 3], torch.full((16,), want, dtype=x.dtype))
    maps = gan.MinibatchStd()(torch.randn(4, 2, 5, 5))
    assert maps.shape == (4, 3, 5, 5) and torch.all(maps[:, 2] == maps[0, 2, 0, 0])
    # a collapsed batch (all examples equal) gets ~0
    same = gan.MinibatchStd()(torch.ones(8, 3))
    assert same[:, 3].max() < 1e-3
    with pytest.raises(ValueError, match="B >= 2"):
        gan.MinibatchStd()(torch.zeros(1, 3))


def test_spectral_normalize_bounds_every_layer_by_one():
    torch.manual_seed(0)
    D = gan.spectral_normalize(gan.ConvDiscriminator(channels=(8, 16)))
    x = torch.randn(4, 1, 8, 8)
    for _ in range(30):
        D(x)  # each training-mode forward runs one power iteration
    layers = [m for m in D.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert len(layers) == 4
    for layer in layers:
        matrix = layer.weight.reshape(layer.weight.shape[0], -1)
        sigma = torch.linalg.matrix_norm(matrix.detach(), ord=2).item()
        assert sigma == pytest.approx(1.0, abs=0.02)
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        gan.spectral_normalize("D")


def test_packed_discriminator_is_an_mlp_on_concatenated_examples():
    torch.manual_seed(0)
    D = gan.MLPDiscriminator((2,), hidden=(8, 8), pack=3)
    x = torch.randn(6, 2)
    # the same weights applied by hand to (x_0, x_1, x_2) and (x_3, x_4, x_5)
    linears = [m for m in D.body.modules() if isinstance(m, nn.Linear)]
    h = torch.stack([torch.cat([x[0], x[1], x[2]]), torch.cat([x[3], x[4], x[5]])])
    for linear in linears:
        h = F.leaky_relu(linear(h), 0.2)
    torch.testing.assert_close(D(x), D.head(h).squeeze(1))
    assert linears[0].in_features == 6


@pytest.mark.parametrize("hidden", [(8,), (8, 8)])
def test_minibatch_std_discriminator_sees_the_batch_spread(hidden):
    torch.manual_seed(0)
    D = gan.MLPDiscriminator((2,), hidden=hidden, minibatch_std=True).double()
    x = torch.randn(5, 2, dtype=torch.float64)
    linears = [m for m in D.body.modules() if isinstance(m, nn.Linear)]
    # by hand: hidden layers, numpy's population std before the last one, the last
    h = x
    for linear in linears[:-1]:
        h = F.leaky_relu(linear(h), 0.2)
    spread = float(np.std(h.detach().numpy(), axis=0).mean())
    h = torch.cat([h, torch.full((5, 1), spread, dtype=torch.float64)], dim=1)
    h = F.leaky_relu(linears[-1](h), 0.2)
    torch.testing.assert_close(D(x), D.head(h).squeeze(1))
    # a batch-dependent D: moving one example changes the others' logits
    moved = x.clone()
    moved[4] += 10.0
    assert not torch.allclose(D(x)[:4], D(moved)[:4])
    # a plain D judges each example alone
    plain = gan.MLPDiscriminator((2,), hidden=hidden).double()
    torch.testing.assert_close(plain(x)[:4], plain(moved)[:4])


def test_discriminator_pack_and_minibatch_std_reject_bad_input():
    with pytest.raises(ValueError, match="pack"):
        gan.MLPDiscriminator((2,), pack=0)
    with pytest.raises(ValueError, match="unconditional"):
        gan.MLPDiscriminator((2,), pack=2, num_classes=3)
    with pytest.raises(TypeError, match="minibatch_std"):
        gan.MLPDiscriminator((2,), minibatch_std=1)
    with pytest.raises(ValueError, match="multiple of pack=4"):
        gan.MLPDiscriminator((2,), pack=4)(torch.randn(6, 2))

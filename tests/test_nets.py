"""Tests for gentorch.nets."""

import math

import pytest
import torch
from torch import nn

from gentorch.nets import (
    MLP,
    ConvDecoder,
    ConvEncoder,
    DiscretizedLogistic,
    SinusoidalEmbedding,
    sinusoidal_embedding,
)

HIDDEN_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
}


def _reference_embedding(t, dim, max_period=10000.0):
    """The definition, one number at a time: [cos(t w_i) ..., sin(t w_i) ...]."""
    half = dim // 2
    freqs = [max_period ** (-i / half) for i in range(half)]
    return [
        [math.cos(ti * w) for w in freqs] + [math.sin(ti * w) for w in freqs]
        for ti in t
    ]


def _all_parameters_get_gradients(model, x):
    torch.manual_seed(0)
    out = model(x)
    (out * torch.randn_like(out)).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


# ---------------------------------------------------------------- sinusoidal embedding


@pytest.mark.parametrize("dim, max_period", [(2, 10000.0), (8, 10000.0), (6, 50.0)])
def test_sinusoidal_embedding_matches_python_loop(dim, max_period):
    t = [0.0, 1.0, 2.5, 17.0, 999.0]
    expected = torch.tensor(
        _reference_embedding(t, dim, max_period), dtype=torch.float64
    )
    got = sinusoidal_embedding(
        torch.tensor(t, dtype=torch.float64), dim, max_period=max_period
    )
    assert got.shape == (5, dim) and got.dtype == torch.float64
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


def test_sinusoidal_embedding_integer_timesteps_default_to_float32():
    t = torch.tensor([0, 3, 250, 999])  # int64, as sampled timesteps are
    got = sinusoidal_embedding(t, 16)
    assert got.dtype == torch.float32 and got.device == t.device
    expected = torch.tensor(_reference_embedding(t.tolist(), 16), dtype=torch.float32)
    # float32 angles up to ~1000 rad carry ~1e-4 absolute error
    torch.testing.assert_close(got, expected, rtol=0, atol=2e-4)
    # cosines first: emb(0) = [1, ..., 1, 0, ..., 0]
    assert torch.equal(got[0], torch.tensor([1.0] * 8 + [0.0] * 8))


def test_sinusoidal_embedding_dot_product_depends_only_on_offset():
    dim, half = 32, 16
    t = torch.tensor([0.0, 3.0, 41.5, 500.0, 2718.0], dtype=torch.float64)
    freqs = [10000.0 ** (-i / half) for i in range(half)]
    for k in (0.0, 1.0, 7.0, 123.25):
        dots = (sinusoidal_embedding(t, dim) * sinusoidal_embedding(t + k, dim)).sum(-1)
        expected = sum(math.cos(k * w) for w in freqs)  # the same for every t
        torch.testing.assert_close(dots, torch.full_like(dots, expected))
    # different offsets give different similarities (the embedding separates them)
    e0 = sinusoidal_embedding(torch.tensor([10.0]), dim)
    dot1 = (e0 * sinusoidal_embedding(torch.tensor([11.0]), dim)).sum()
    dot50 = (e0 * sinusoidal_embedding(torch.tensor([60.0]), dim)).sum()
    assert dot1 > dot50


def test_sinusoidal_embedding_module_wraps_function_and_follows_device():
    module = SinusoidalEmbedding(12, max_period=100.0)
    assert list(module.parameters()) == [] and "dim=12" in repr(module)
    t = torch.tensor([0.0, 5.0, 9.5])
    torch.testing.assert_close(
        module(t), sinusoidal_embedding(t, 12, max_period=100.0), rtol=0, atol=0
    )
    meta = sinusoidal_embedding(torch.zeros(4, device="meta"), 6)
    assert meta.device.type == "meta" and meta.shape == (4, 6)
    assert sinusoidal_embedding(torch.zeros(2, dtype=torch.float16), 4).dtype == (
        torch.float16
    )


def test_sinusoidal_embedding_bad_inputs():
    t = torch.arange(3)
    with pytest.raises(TypeError, match="t must be a torch.Tensor"):
        sinusoidal_embedding([0, 1], 4)
    with pytest.raises(TypeError, match="t must be an integer or floating"):
        sinusoidal_embedding(torch.tensor([True, False]), 4)
    with pytest.raises(ValueError, match=r"t must have shape \(B,\); got \(3, 1\)"):
        sinusoidal_embedding(t[:, None], 4)
    with pytest.raises(ValueError, match=r"t must have shape \(B,\)"):
        sinusoidal_embedding(torch.tensor(1.0), 4)
    for make in (lambda **kw: sinusoidal_embedding(t, **kw), SinusoidalEmbedding):
        with pytest.raises(ValueError, match="dim must be an even int >= 2; got 5"):
            make(dim=5)
        with pytest.raises(ValueError, match="dim must be an int >= 2; got 0"):
            make(dim=0)
        with pytest.raises(TypeError, match="dim must be an int; got float"):
            make(dim=4.0)
        with pytest.raises(ValueError, match="max_period must be a finite number > 0"):
            make(dim=4, max_period=0.0)
        with pytest.raises(TypeError, match="max_period must be a real number"):
            make(dim=4, max_period="1e4")


# -------------------------------------------------------------------------------- MLP


@pytest.mark.parametrize("activation", sorted(HIDDEN_ACTIVATIONS))
def test_mlp_layer_structure(activation):
    model = MLP(3, 5, hidden=(16, 32), activation=activation)
    layers = list(model.net)
    assert isinstance(model.net, nn.Sequential) and len(layers) == 5
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (3, 16),
        (16, 32),
        (32, 5),
    ]
    assert isinstance(layers[0], nn.Linear) and isinstance(layers[-1], nn.Linear)
    assert all(isinstance(layers[i], HIDDEN_ACTIVATIONS[activation]) for i in (1, 3))
    if activation == "leaky_relu":
        assert layers[1].negative_slope == 0.2
    assert model(torch.randn(7, 3)).shape == (7, 5)


def test_mlp_default_and_dropout_layers():
    model = MLP(2, 1)
    widths = [(m.in_features, m.out_features) for m in model.net[::2]]
    assert widths == [(2, 128), (128, 128), (128, 1)]
    assert not any(isinstance(m, nn.Dropout) for m in model.net)
    model = MLP(2, 1, hidden=(8, 8, 8), dropout=0.25)
    drops = [m for m in model.net if isinstance(m, nn.Dropout)]
    assert len(drops) == 3 and all(m.p == 0.25 for m in drops)
    assert isinstance(model.net[-1], nn.Linear)  # no dropout on the output
    model.eval()  # dropout off: deterministic
    x = torch.randn(4, 2)
    assert torch.equal(model(x), model(x))


def test_mlp_without_hidden_layers_is_one_affine_map():
    model = MLP(4, 3, hidden=[])
    assert len(model.net) == 1 and isinstance(model.net[0], nn.Linear)
    x = torch.randn(6, 4)
    W, b = model.net[0].weight, model.net[0].bias
    assert W.shape == (3, 4) and b.shape == (3,)
    torch.testing.assert_close(model(x), x @ W.T + b)


@pytest.mark.parametrize(
    "name, low, high, fn",
    [("tanh", -1.0, 1.0, torch.tanh), ("sigmoid", 0.0, 1.0, torch.sigmoid)],
)
def test_mlp_output_activation_is_applied_last_and_bounds_output(name, low, high, fn):
    torch.manual_seed(0)
    raw = MLP(2, 3, hidden=(8,))
    bounded = MLP(2, 3, hidden=(8,), output_activation=name)
    bounded.load_state_dict(raw.state_dict())  # same weights, one extra layer
    x = 100 * torch.randn(50, 2)
    out = bounded(x)
    torch.testing.assert_close(out, fn(raw(x)))
    assert out.min() >= low and out.max() <= high
    assert raw(x).abs().max() > 1  # the bound is the activation's doing


def test_mlp_accepts_extra_leading_dimensions():
    model = MLP(3, 2, hidden=(4,))
    x = torch.randn(2, 5, 3)
    out = model(x)
    assert out.shape == (2, 5, 2)
    torch.testing.assert_close(out[1, 3], model(x[1, 3][None])[0])


def test_mlp_float64_and_meta_device_follow_parameters():
    model = MLP(3, 2, hidden=(8,))
    x = torch.randn(4, 3)
    expected = model(x)
    model64 = MLP(3, 2, hidden=(8,)).double()
    model64.load_state_dict(model.state_dict())
    out = model64(x.double())
    assert out.dtype == torch.float64
    torch.testing.assert_close(out.float(), expected)
    meta = model.to("meta")(torch.zeros(4, 3, device="meta"))
    assert meta.device.type == "meta" and meta.shape == (4, 2)


def test_mlp_gradients_reach_every_parameter():
    model = MLP(3, 2, hidden=(16, 16), activation="silu", output_activation="tanh")
    _all_parameters_get_gradients(model, torch.randn(32, 3))


def test_mlp_fits_sine():
    """Full-batch Adam, 300 steps: about 0.2 s on one CPU core."""
    torch.manual_seed(0)
    x = torch.linspace(-3, 3, 256)[:, None]
    y = torch.sin(x)
    model = MLP(1, 1, hidden=(64, 64), activation="tanh")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(300):
        loss = (model(x) - y).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        mse = (model(x) - y).square().mean().item()
    assert mse < 0.01


def test_mlp_bad_inputs():
    with pytest.raises(ValueError, match="in_dim must be an int >= 1; got 0"):
        MLP(0, 1)
    with pytest.raises(TypeError, match="out_dim must be an int; got float"):
        MLP(2, 1.0)
    with pytest.raises(TypeError, match="hidden must be a tuple of ints; got int"):
        MLP(2, 1, hidden=128)
    with pytest.raises(ValueError, match="hidden entries must be an int >= 1; got 0"):
        MLP(2, 1, hidden=(8, 0))
    with pytest.raises(TypeError, match="hidden entries must be an int; got str"):
        MLP(2, 1, hidden=("8",))
    with pytest.raises(
        ValueError,
        match="activation must be one of 'relu', 'leaky_relu', 'silu', 'gelu', 'tanh'",
    ):
        MLP(2, 1, activation="swish")
    with pytest.raises(
        ValueError, match="output_activation must be one of None, 'tanh', 'sigmoid'"
    ):
        MLP(2, 1, output_activation="softmax")
    with pytest.raises(
        ValueError, match=r"dropout must be a finite number in \[0, 1\)"
    ):
        MLP(2, 1, dropout=1.0)
    with pytest.raises(TypeError, match="dropout must be a real number"):
        MLP(2, 1, dropout="0.1")
    with pytest.raises(TypeError, match="positional"):
        MLP(2, 1, (8,))  # hyperparameters are keyword-only
    model = MLP(3, 1)
    with pytest.raises(
        ValueError, match=r"x must have shape \(\.\.\., 3\).*got \(4, 2\)"
    ):
        model(torch.randn(4, 2))
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 3\)"):
        model(torch.tensor(1.0))
    with pytest.raises(TypeError, match="x must be a floating tensor"):
        model(torch.ones(4, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        model([[1.0, 2.0, 3.0]])


# -------------------------------------------------------------- conv encoder/decoder


def _spatial_sizes(model, x, layer_type):
    """Output height/width of every `layer_type` layer, recorded with forward hooks."""
    sizes = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: sizes.append(tuple(o.shape[-2:])))
        for m in model.modules()
        if isinstance(m, layer_type)
    ]
    model(x)
    for hook in hooks:
        hook.remove()
    return sizes


@pytest.mark.parametrize("image_size, halved", [(8, [4, 2]), (28, [14, 7])])
@pytest.mark.parametrize("batch", [1, 5])
def test_conv_encoder_decoder_shapes(image_size, halved, batch):
    encoder = ConvEncoder(10, image_size=image_size)
    decoder = ConvDecoder(10, image_size=image_size)
    x = torch.randn(batch, 1, image_size, image_size)
    assert encoder(x).shape == (batch, 10)
    assert decoder(torch.randn(batch, 10)).shape == (batch, 1, image_size, image_size)
    # each stride-2 layer halves (encoder) or doubles (decoder) the size exactly
    assert _spatial_sizes(encoder, x, nn.Conv2d) == [(s, s) for s in halved]
    doubled = [halved[0], image_size]  # 2 -> 4 -> 8, 7 -> 14 -> 28
    z = torch.randn(batch, 10)
    assert _spatial_sizes(decoder, z, nn.ConvTranspose2d) == [(s, s) for s in doubled]
    convs = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
    assert [(m.in_channels, m.out_channels) for m in convs] == [(1, 32), (32, 64)]
    assert all(m.stride == (2, 2) for m in convs)
    ups = [m for m in decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels) for m in ups] == [(64, 32), (32, 1)]


def test_conv_options_channels_and_output_activation():
    encoder = ConvEncoder(3, image_size=8, in_channels=3, channels=(4, 8, 16))
    assert encoder(torch.randn(2, 3, 8, 8)).shape == (2, 3)
    assert encoder.net[-1].in_features == 16 * 1 * 1  # 8 -> 4 -> 2 -> 1
    encoder = ConvEncoder(3, image_size=28, channels=[6], activation="leaky_relu")
    assert encoder.net[-1].in_features == 6 * 14 * 14
    assert encoder.net[1].negative_slope == 0.2
    decoder = ConvDecoder(4, image_size=28, out_channels=3, channels=(8,))
    assert decoder(torch.randn(2, 4)).shape == (2, 3, 28, 28)
    torch.manual_seed(0)
    raw = ConvDecoder(4, image_size=8, output_activation=None)
    for name, fn, low, high in [
        ("tanh", torch.tanh, -1, 1),
        ("sigmoid", torch.sigmoid, 0, 1),
    ]:
        bounded = ConvDecoder(4, image_size=8, output_activation=name)
        bounded.load_state_dict(raw.state_dict())
        z = 100 * torch.randn(6, 4)
        out = bounded(z)
        torch.testing.assert_close(out, fn(raw(z)))
        assert out.min() >= low and out.max() <= high
    assert isinstance(ConvDecoder(4, image_size=8).net[-1], nn.Tanh)  # the default
    assert isinstance(raw.net[-1], nn.ConvTranspose2d)  # no activation after it


@pytest.mark.parametrize("image_size", [8, 28])
def test_conv_gradients_reach_every_parameter(image_size):
    torch.manual_seed(0)
    encoder = ConvEncoder(6, image_size=image_size)
    decoder = ConvDecoder(6, image_size=image_size)
    x = torch.randn(16, 1, image_size, image_size)
    _all_parameters_get_gradients(nn.Sequential(encoder, decoder), x)


def test_conv_float64_and_meta_device_follow_parameters():
    torch.manual_seed(0)
    encoder, decoder = ConvEncoder(5, image_size=8), ConvDecoder(5, image_size=8)
    x = torch.randn(3, 1, 8, 8)
    expected = decoder(encoder(x))
    out = decoder.double()(encoder.double()(x.double()))
    assert out.dtype == torch.float64
    torch.testing.assert_close(out.float(), expected, rtol=1e-4, atol=1e-5)
    encoder, decoder = encoder.to("meta"), decoder.to("meta")  # still float64
    meta = decoder(encoder(torch.zeros(2, 1, 8, 8, dtype=torch.float64, device="meta")))
    assert meta.device.type == "meta" and meta.shape == (2, 1, 8, 8)


def test_conv_bad_inputs():
    for make in (ConvEncoder, ConvDecoder):
        with pytest.raises(ValueError, match="image_size must be one of 8, 28; got 16"):
            make(4, image_size=16)
        with pytest.raises(TypeError, match="image_size"):
            make(4)  # image_size is required
        with pytest.raises(
            ValueError,
            match=r"channels must have at most 2 entries for image_size=28 "
            r"\(each halves the size: 28 -> 14 -> 7\); got 3",
        ):
            make(4, image_size=28, channels=(8, 8, 8))
        with pytest.raises(ValueError, match="channels must have at most 3 entries"):
            make(4, image_size=8, channels=(8, 8, 8, 8))
        with pytest.raises(ValueError, match="channels must have at least one entry"):
            make(4, image_size=8, channels=())
        with pytest.raises(TypeError, match="channels must be a tuple of ints"):
            make(4, image_size=8, channels=32)
        with pytest.raises(ValueError, match="activation must be one of 'relu'"):
            make(4, image_size=8, activation="elu")
        with pytest.raises(TypeError, match="must be an int; got float"):
            make(4.0, image_size=8)
    with pytest.raises(ValueError, match="in_channels must be an int >= 1; got 0"):
        ConvEncoder(4, image_size=8, in_channels=0)
    with pytest.raises(ValueError, match="out_channels must be an int >= 1; got 0"):
        ConvDecoder(4, image_size=8, out_channels=0)
    with pytest.raises(
        ValueError, match="output_activation must be one of 'tanh', 'sigmoid', None"
    ):
        ConvDecoder(4, image_size=8, output_activation="relu")

    encoder = ConvEncoder(4, image_size=28)
    with pytest.raises(
        ValueError, match=r"x must have shape \(B, 1, 28, 28\); got \(2, 1, 8, 8\)"
    ):
        encoder(torch.randn(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"x must have shape \(B, 1, 28, 28\)"):
        encoder(torch.randn(1, 28, 28))  # missing channel dimension
    with pytest.raises(TypeError, match="x must be a floating tensor"):
        encoder(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    decoder = ConvDecoder(4, image_size=8)
    with pytest.raises(ValueError, match=r"z must have shape \(B, 4\); got \(2, 5\)"):
        decoder(torch.randn(2, 5))
    with pytest.raises(TypeError, match="z must be a torch.Tensor"):
        decoder([[0.0] * 4])


def test_mlp_batch_norm_normalises_each_hidden_layer_over_the_batch():
    torch.manual_seed(0)
    mlp = MLP(3, 2, hidden=(16, 8), norm="batch")
    norms = [m for m in mlp.net if isinstance(m, torch.nn.BatchNorm1d)]
    assert [n.num_features for n in norms] == [16, 8]
    # in training mode each hidden pre-activation has batch mean 0 and variance 1
    x = torch.randn(256, 3) * 5 + 2
    hidden = mlp.net[:2](x)  # Linear -> BatchNorm1d
    torch.testing.assert_close(hidden.mean(0), torch.zeros(16), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        hidden.var(0, unbiased=False), torch.ones(16), atol=1e-3, rtol=0
    )
    with pytest.raises(ValueError, match="norm"):
        MLP(3, 2, norm="layer")


def test_discretized_logistic_head_splits_and_clamps():
    from gentorch.distributions import discretized_logistic_logits

    head = DiscretizedLogistic(17, components=2, min_log_scale=-4.0)
    x = torch.randn(3, 1, 8, 8, 6)
    x[..., 2:4] = -10.0  # log-scales below the clamp
    out = head(x)
    assert out.shape == (3, 1, 8, 8, 17)
    expected = discretized_logistic_logits(
        x[..., 0:2], torch.full_like(x[..., 2:4], -4.0), x[..., 4:6], levels=17
    )
    torch.testing.assert_close(out, expected)
    assert "levels=17, components=2" in repr(head)
    with pytest.raises(ValueError, match=r"x must have shape \(..., 6\)"):
        head(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="levels must be an int >= 2"):
        DiscretizedLogistic(1)
    with pytest.raises(ValueError, match="components must be an int >= 1"):
        DiscretizedLogistic(17, components=0)


# --- denoisers ------------------------------------------------------------------------

from gentorch.nets import DenoisingMLP, NoisyClassifier, UNet  # noqa: E402


def _wake(model):
    """Give the zero-initialised output layer random weights, so outputs differ."""
    gen = torch.Generator().manual_seed(1)
    last = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))][-1]
    with torch.no_grad():
        last.weight.copy_(torch.randn(last.weight.shape, generator=gen) * 0.1)
    return model


DENOISERS = [
    lambda **kw: DenoisingMLP(64, hidden=(32, 32), time_dim=16, **kw),
    lambda **kw: UNet(image_size=8, channels=(8, 16), **kw),
]


@pytest.mark.parametrize("make", DENOISERS)
def test_denoisers_start_at_zero_and_keep_the_shape(make):
    torch.manual_seed(0)
    model = make()
    x = torch.randn(3, 1, 8, 8)
    out = model(x, torch.tensor([0, 10, 999]))
    assert out.shape == x.shape and torch.equal(out, torch.zeros_like(x))


@pytest.mark.parametrize("make", DENOISERS)
def test_denoisers_depend_on_time_and_label(make):
    torch.manual_seed(0)
    model = _wake(make(num_classes=10))
    x = torch.randn(1, 1, 8, 8).expand(4, 1, 8, 8)
    out = model(x, torch.tensor([0, 500, 0, 0]), torch.tensor([3, 3, 4, 10]))
    # same input, different timestep or label: different output
    assert not torch.allclose(out[0], out[1]) and not torch.allclose(out[0], out[2])
    # no labels means the null label, num_classes
    torch.testing.assert_close(model(x[:1], 0), out[3:])
    # an int, a 0-d tensor and a (B,) tensor of one timestep agree
    torch.testing.assert_close(model(x, 7), model(x, torch.tensor(7)))
    torch.testing.assert_close(model(x, 7), model(x, torch.full((4,), 7)))


@pytest.mark.parametrize("make", DENOISERS)
def test_denoisers_pass_gradients_to_every_parameter(make):
    torch.manual_seed(0)
    model = _wake(make(num_classes=3))
    model(torch.randn(5, 1, 8, 8), torch.arange(5), torch.tensor([0, 1, 2, 3, 0])).pow(
        2
    ).sum().backward()
    missing = [
        n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()
    ]
    assert missing == []


def test_denoising_mlp_is_a_per_example_function():
    torch.manual_seed(0)
    model = _wake(DenoisingMLP(2, hidden=(16,), time_dim=8))
    x = torch.randn(6, 2)
    t = torch.arange(6) * 100
    together = model(x, t)
    alone = torch.cat([model(x[i : i + 1], t[i : i + 1]) for i in range(6)])
    torch.testing.assert_close(together, alone)


def test_noisy_classifier_gives_logits_that_depend_on_the_timestep():
    torch.manual_seed(0)
    model = NoisyClassifier(64, 10, hidden=(32, 32), time_dim=16)
    x = torch.randn(5, 1, 8, 8)
    logits = model(x, torch.full((5,), 3))
    assert logits.shape == (5, 10)
    assert not torch.allclose(logits, model(x, torch.full((5,), 900)))
    # its body is the denoiser's, with a class head
    alone = torch.cat([model(x[i : i + 1], 3) for i in range(5)])
    torch.testing.assert_close(logits, alone)
    logits.logsumexp(-1).sum().backward()
    assert all(
        p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters()
    )


def test_unet_on_28x28_and_float64():
    torch.manual_seed(0)
    model = _wake(UNet(image_size=28, channels=(8, 16, 16)).double())
    x = torch.randn(2, 1, 28, 28, dtype=torch.float64)
    out = model(x, torch.tensor([1, 2]))
    assert out.shape == x.shape and out.dtype == torch.float64


def test_unet_sees_the_whole_8x8_image():
    # the receptive field covers the image: a change in one corner reaches the other
    torch.manual_seed(0)
    model = _wake(UNet(image_size=8, channels=(8, 16)))
    x = torch.zeros(1, 1, 8, 8, requires_grad=True)
    model(x, 5)[0, 0, 7, 7].backward()
    assert x.grad[0, 0, 0, 0] != 0


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: DenoisingMLP(0), ValueError, "dim"),
        (lambda: DenoisingMLP(2, hidden=()), ValueError, "hidden"),
        (lambda: DenoisingMLP(2, time_dim=5), ValueError, "even"),
        (lambda: DenoisingMLP(2, num_classes=0), ValueError, "num_classes"),
        (lambda: DenoisingMLP(2, dropout=1.0), ValueError, "dropout"),
        (lambda: NoisyClassifier(64, 1), ValueError, "num_classes"),
        (lambda: UNet(image_size=10, channels=(8, 8, 8)), ValueError, "divisible by"),
        (lambda: UNet(image_size=8, channels=(12,)), ValueError, "multiples of groups"),
        (lambda: UNet(image_size=8.0), TypeError, "image_size"),
    ],
)
def test_bad_denoiser_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_denoiser_inputs():
    mlp = DenoisingMLP(4, hidden=(8,), time_dim=8)
    with pytest.raises(ValueError, match="dim=4"):
        mlp(torch.zeros(2, 5), 0)
    with pytest.raises(ValueError, match=r"t must have shape \(2,\)"):
        mlp(torch.zeros(2, 4), torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="num_classes=None"):
        mlp(torch.zeros(2, 4), 0, torch.tensor([0, 1]))
    conditional = DenoisingMLP(4, hidden=(8,), time_dim=8, num_classes=3)
    with pytest.raises(ValueError, match=r"0\.\.3"):
        conditional(torch.zeros(2, 4), 0, torch.tensor([0, 4]))
    with pytest.raises(TypeError, match="int64"):
        conditional(torch.zeros(2, 4), 0, torch.tensor([0.0, 1.0]))
    unet = UNet(image_size=8, channels=(8,))
    with pytest.raises(ValueError, match=r"\(B, 1, 8, 8\)"):
        unet(torch.zeros(2, 1, 28, 28), 0)

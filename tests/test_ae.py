"""gentorch.ae and the image MLP encoder/decoder, against independent references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from sklearn.decomposition import PCA as SklearnPCA
from torch import nn

import gentorch as gt
from gentorch.ae import Autoencoder, corrupt, pca, principal_angles, squared_error
from gentorch.nets import MLPDecoder, MLPEncoder


def test_mlp_encoder_decoder_shapes_and_layers():
    enc = MLPEncoder(3, image_size=8, hidden=(16,))
    dec = MLPDecoder(3, image_size=8, hidden=(16,))
    x = torch.rand(5, 1, 8, 8) * 2 - 1
    z = enc(x)
    assert z.shape == (5, 3)
    out = dec(z)
    assert out.shape == (5, 1, 8, 8)
    # the encoder is Flatten + Linear(64, 16) + ReLU + Linear(16, 3), written by hand
    lin1, lin2 = enc.net[1], enc.net[3]
    expected = lin2(torch.relu(lin1(x.reshape(5, 64))))
    torch.testing.assert_close(z, expected)
    # tanh output in [-1, 1], reshaped row-major
    lin1, lin2 = dec.net[0], dec.net[2]
    flat = torch.tanh(lin2(torch.relu(lin1(z))))
    torch.testing.assert_close(out, flat.reshape(5, 1, 8, 8))
    assert MLPDecoder(2, image_size=28, out_channels=3)(z[:, :2]).shape == (
        5,
        3,
        28,
        28,
    )


def test_mlp_encoder_decoder_bad_input():
    with pytest.raises(ValueError, match="x must have shape"):
        MLPEncoder(2, image_size=8)(torch.zeros(4, 1, 28, 28))
    with pytest.raises(ValueError, match="z must have shape"):
        MLPDecoder(2, image_size=8)(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="output_activation"):
        MLPDecoder(2, image_size=8, output_activation="softmax")
    with pytest.raises(ValueError, match="image_size"):
        MLPEncoder(2, image_size=0)


def test_autoencoder_returns_code_and_reconstruction():
    enc, dec = nn.Linear(4, 2), nn.Linear(2, 4)
    model = Autoencoder(enc, dec)
    x = torch.randn(6, 4)
    out = model(x)
    torch.testing.assert_close(out.z, enc(x))
    torch.testing.assert_close(out.x_hat, dec(enc(x)))
    torch.testing.assert_close(model.decode(model.encode(x)), out.x_hat)
    with pytest.raises(TypeError, match="encoder"):
        Autoencoder(lambda x: x, dec)


def test_squared_error_per_example():
    x, x_hat = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    expected = np.array(
        [((a - b) ** 2).sum() for a, b in zip(x.numpy(), x_hat.numpy(), strict=True)]
    )
    np.testing.assert_allclose(squared_error(x_hat, x).numpy(), expected, rtol=1e-6)
    # the Gaussian N(x_hat, I/2) negative log-likelihood, less its constant
    normal = torch.distributions.Normal(x_hat, 0.5**0.5)
    nll = -normal.log_prob(x).flatten(1).sum(1)
    const = 16 * 0.5 * np.log(np.pi)
    torch.testing.assert_close(squared_error(x_hat, x), nll - const)
    with pytest.raises(ValueError, match="same shape"):
        squared_error(x_hat[:2], x)
    with pytest.raises(TypeError, match="floating"):
        squared_error(x_hat, x.long())


def test_pca_matches_sklearn_and_reconstruction_error():
    x = gt.data.digits("train", dtype=torch.float64).x
    fit = pca(x, 5)
    ref = SklearnPCA(5).fit(x.reshape(len(x), -1).numpy())
    np.testing.assert_allclose(fit.mean.numpy(), ref.mean_, atol=1e-12)
    # the same directions up to sign
    signs = np.sign((fit.components.numpy() * ref.components_).sum(1))
    np.testing.assert_allclose(
        fit.components.numpy() * signs[:, None], ref.components_, atol=1e-8
    )
    n = len(x)
    np.testing.assert_allclose(
        fit.variances.numpy(), ref.explained_variance_ * (n - 1) / n, rtol=1e-10
    )
    recon = fit.decode(fit.encode(x))
    assert recon.shape == x.shape
    np.testing.assert_allclose(
        recon.reshape(n, -1).numpy(),
        ref.inverse_transform(ref.transform(x.reshape(n, -1).numpy())),
        atol=1e-8,
    )
    # training error = the sum of the discarded variances (closed form)
    full = pca(x, 64)
    err = squared_error(recon, x).mean()
    torch.testing.assert_close(err, full.variances[5:].sum())


def test_pca_bad_input():
    with pytest.raises(ValueError, match="k must be"):
        pca(torch.randn(10, 3), 4)
    with pytest.raises(ValueError, match="N >= 2"):
        pca(torch.randn(1, 3), 1)
    with pytest.raises(ValueError, match="x must have shape"):
        pca(torch.randn(10, 3), 2).encode(torch.randn(4, 4))


@pytest.mark.parametrize("k,m", [(3, 3), (2, 4), (5, 1)])
def test_principal_angles_match_scipy(k, m):
    g = torch.Generator().manual_seed(k * 10 + m)
    a = torch.randn(12, k, generator=g, dtype=torch.float64)
    b = torch.randn(12, m, generator=g, dtype=torch.float64)
    got = principal_angles(a, b).numpy()
    ref = np.sort(scipy.linalg.subspace_angles(a.numpy(), b.numpy()))
    np.testing.assert_allclose(got, ref, atol=1e-10)


def test_principal_angles_small_and_equal_spans():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(20, 3, generator=g, dtype=torch.float64)
    mix = torch.randn(3, 3, generator=g, dtype=torch.float64)
    assert principal_angles(a, a @ mix).abs().max() < 1e-7
    # a tilt of 1e-6 rad is resolved (arccos alone loses it)
    e = torch.eye(20, dtype=torch.float64)
    b = e[:, :1] + 1e-6 * e[:, 1:2]
    angle = principal_angles(e[:, :1], b)
    torch.testing.assert_close(angle, torch.tensor([1e-6], dtype=torch.float64))
    with pytest.raises(ValueError, match="b must have shape"):
        principal_angles(a, torch.randn(19, 2, dtype=torch.float64))


def test_corrupt_statistics_and_determinism():
    x = torch.zeros(200_000)
    g = torch.Generator().manual_seed(0)
    noisy = corrupt(x, noise_std=0.3, generator=g)
    assert abs(noisy.std().item() - 0.3) < 0.003 and abs(noisy.mean()) < 0.003
    masked = corrupt(torch.ones(200_000), mask_prob=0.25, fill=-1.0, generator=g)
    assert set(masked.unique().tolist()) == {-1.0, 1.0}
    assert abs((masked == -1).float().mean().item() - 0.25) < 0.005
    a = corrupt(
        x[:10], noise_std=1.0, mask_prob=0.5, generator=torch.Generator().manual_seed(1)
    )
    b = corrupt(
        x[:10], noise_std=1.0, mask_prob=0.5, generator=torch.Generator().manual_seed(1)
    )
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(corrupt(x[:10]), x[:10])
    with pytest.raises(ValueError, match="mask_prob"):
        corrupt(x, mask_prob=1.5)
    with pytest.raises(ValueError, match="noise_std"):
        corrupt(x, noise_std=-1.0)


def test_linear_autoencoder_finds_the_pca_subspace():
    """Baldi & Hornik (1989): a trained linear AE spans the top principal subspace."""
    torch.manual_seed(0)
    x = gt.data.digits("train").x.flatten(1)
    model = Autoencoder(nn.Linear(64, 2), nn.Linear(2, 64))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(2500):
        loss = squared_error(model(x).x_hat, x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    fit = pca(x, 2)
    angles = principal_angles(model.decoder.weight.detach(), fit.components.T)
    assert angles.max() < 1e-3
    full = pca(x, 64)
    torch.testing.assert_close(
        loss.detach(), full.variances[2:].sum(), rtol=2e-3, atol=0
    )

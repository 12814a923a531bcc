"""gentorch.vq against brute force and the formulas of van den Oord et al. (2017)."""

from __future__ import annotations

import math

import pytest
import torch

from gentorch.vq import VectorQuantizer, perplexity


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


def test_nearest_code_matches_brute_force_distances(gen):
    torch.manual_seed(0)
    vq = VectorQuantizer(3, 10)
    with torch.no_grad():
        vq.codebook.normal_(generator=gen)
    z = torch.randn(4, 5, 6, 3, generator=gen)
    out = vq(z)
    # brute force: every distance, then argmin
    d = ((z.unsqueeze(-2) - vq.codebook) ** 2).sum(-1)  # (4, 5, 6, 10)
    assert torch.equal(out.indices, d.argmin(-1))
    assert out.indices.shape == (4, 5, 6) and out.indices.dtype == torch.int64
    # the quantized value is exactly the looked-up codebook vector
    assert torch.equal(out.quantized, vq.codebook_lookup(out.indices))
    assert torch.equal(out.quantized, vq.codebook[d.argmin(-1)])


def test_straight_through_gradient_is_the_identity(gen):
    vq = VectorQuantizer(4, 8)
    z = torch.randn(3, 7, 4, generator=gen, requires_grad=True)
    upstream = torch.randn(3, 7, 4, generator=gen)
    (vq(z).quantized * upstream).sum().backward()
    # the gradient reaching the encoder's output equals the gradient at z_q
    torch.testing.assert_close(z.grad, upstream)
    assert vq.codebook.grad is None  # the decoder's gradient does not move codes


def test_losses_and_their_gradients(gen):
    vq = VectorQuantizer(2, 5, commitment_weight=0.25)
    z = torch.randn(6, 3, 2, generator=gen, requires_grad=True)
    out = vq(z)
    e = vq.codebook_lookup(out.indices).detach()
    squared = ((z.detach() - e) ** 2).flatten(1).sum(1)  # (B,)
    torch.testing.assert_close(out.loss, 1.25 * squared)
    out.loss.sum().backward()
    # commitment pulls z_e towards e_k: 2 beta (z_e - e_k)
    torch.testing.assert_close(z.grad, 0.5 * (z.detach() - e))
    # the codebook loss pulls e_k towards its vectors: sum of 2 (e_k - z_e)
    expected = torch.zeros_like(vq.codebook)
    expected.index_add_(0, out.indices.flatten(), 2 * (e - z.detach()).reshape(-1, 2))
    torch.testing.assert_close(vq.codebook.grad, expected)


def test_ema_update_follows_its_formula(gen):
    gamma, k, dim = 0.9, 6, 3
    vq = VectorQuantizer(dim, k, ema_decay=gamma)
    assert not vq.codebook.requires_grad
    count, total = vq.ema_count.clone(), vq.ema_sum.clone()
    z = torch.randn(20, dim, generator=gen, requires_grad=True)
    out = vq(z)
    z = z.detach()
    one_hot = torch.nn.functional.one_hot(out.indices, k).double()  # (20, K)
    count = gamma * count.double() + (1 - gamma) * one_hot.sum(0)
    total = gamma * total.double() + (1 - gamma) * one_hot.T @ z.double()
    n = count.sum()
    smoothed = (count + 1e-5) / (n + k * 1e-5) * n
    torch.testing.assert_close(vq.codebook.double(), total / smoothed[:, None])
    # quantized is the updated code, and the loss the commitment term only
    assert torch.equal(out.quantized, vq.codebook_lookup(out.indices))
    expected = 0.25 * ((z - out.quantized.detach()) ** 2).sum(1)
    torch.testing.assert_close(out.loss, expected)
    # in eval mode nothing moves
    vq.eval()
    before = vq.codebook.clone()
    vq(z)
    assert torch.equal(before, vq.codebook)


def test_ema_codebook_converges_to_cluster_means(gen):
    # two tight clusters and two codes: the codes move onto the cluster means
    centres = torch.tensor([[2.0, 0.0], [-2.0, 1.0]])
    vq = VectorQuantizer(2, 2, ema_decay=0.8)
    with torch.no_grad():
        vq.codebook.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
        vq.ema_sum.copy_(vq.codebook)
    for _ in range(200):
        z = centres.repeat(50, 1) + 0.01 * torch.randn(100, 2, generator=gen)
        vq(z)
    torch.testing.assert_close(vq.codebook, centres, atol=0.02, rtol=0)


def test_perplexity_and_usage():
    assert perplexity(torch.zeros(10, dtype=torch.long), 4).item() == pytest.approx(1.0)
    uniform = torch.arange(8).repeat(5)
    assert perplexity(uniform, 8).item() == pytest.approx(8.0)
    # two codes with frequencies 1/4, 3/4
    two = torch.tensor([0, 1, 1, 1])
    h = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert perplexity(two, 5).item() == pytest.approx(math.exp(h))
    vq = VectorQuantizer(2, 4)
    with torch.no_grad():
        vq.codebook.copy_(torch.tensor([[0.0, 0], [10, 0], [0, 10], [10, 10]]))
    out = vq(torch.tensor([[[0.1, 0.0], [9.0, 0.2], [0.0, 0.3]]]))
    assert out.indices.tolist() == [[0, 1, 0]]
    assert out.used.item() == pytest.approx(0.5)
    assert vq.usage.tolist() == [2.0, 1.0, 0.0, 0.0]


def test_dead_codes_restart_on_the_data(gen):
    vq = VectorQuantizer(2, 4)
    with torch.no_grad():
        vq.codebook.copy_(torch.tensor([[0.0, 0], [100, 0], [0, 100], [100, 100]]))
    z = torch.randn(1, 30, 2, generator=gen)  # all near code 0
    vq(z)
    moved = vq.restart_dead_codes(z, generator=gen)
    assert moved == 3
    # the three dead codes now sit on vectors of z; code 0 did not move
    for j in (1, 2, 3):
        assert (vq.codebook[j] == z[0]).all(dim=1).any()
    assert vq.codebook[0].tolist() == [0.0, 0.0]
    assert vq.usage.sum() == 0
    # after the restart the batch spreads over more codes
    assert vq(z).used.item() > 0.25


def test_bad_input():
    with pytest.raises(ValueError, match="codebook_size must be an int >= 1"):
        VectorQuantizer(2, 0)
    with pytest.raises(
        ValueError, match=r"ema_decay must be a finite number in \(0, 1\)"
    ):
        VectorQuantizer(2, 4, ema_decay=1.0)
    with pytest.raises(ValueError, match="ema_decay"):
        VectorQuantizer(2, 4, ema_decay=0.0)
    with pytest.raises(ValueError, match="commitment_weight"):
        VectorQuantizer(2, 4, commitment_weight=-1.0)
    vq = VectorQuantizer(3, 4)
    with pytest.raises(ValueError, match=r"z_e must have shape \(B, ..., 3\)"):
        vq(torch.zeros(2, 5, 4))
    with pytest.raises(TypeError, match="z_e must be a floating tensor"):
        vq(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"indices must be in 0..3"):
        vq.codebook_lookup(torch.tensor([4]))
    with pytest.raises(TypeError, match="indices must be an integer tensor"):
        vq.codebook_lookup(torch.tensor([0.0]))
    with pytest.raises(ValueError, match="min_usage must be an int >= 1"):
        vq.restart_dead_codes(torch.zeros(2, 3), min_usage=0)

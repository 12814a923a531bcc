"""gentorch.arm: MADE's outputs depend only on earlier inputs, checked by autograd."""

from __future__ import annotations

import pytest
import torch

from gentorch.arm import MADE, MaskedLinear, sample


@pytest.mark.parametrize("hidden", [(32,), (40, 24), (7, 7, 7)])
def test_made_is_autoregressive(hidden):
    torch.manual_seed(0)
    dim, per = 6, 3
    made = MADE(dim, per, hidden=hidden)
    x = torch.randn(1, dim, requires_grad=True)
    out = made(x)
    assert out.shape == (1, dim, per)
    # Jacobian of every output with respect to every input: zero wherever the
    # input comes at or after the output's dimension, exactly
    for d in range(dim):
        for k in range(per):
            (grad,) = torch.autograd.grad(out[0, d, k], x, retain_graph=True)
            assert torch.equal(grad[0, d:], torch.zeros(dim - d))
            if d > 0 and len(hidden) == 1:
                # and it does depend on the earlier ones
                assert grad[0, :d].abs().sum() > 0


def test_made_first_dimension_is_a_constant_and_others_vary():
    torch.manual_seed(0)
    made = MADE(5, 2, hidden=(16, 16))
    x = torch.randn(8, 5)
    out = made(x)
    torch.testing.assert_close(out[:, 0], out[:1, 0].expand(8, 2))
    assert (out[:, 1:].std(0) > 0).all()


def test_masked_linear_multiplies_the_weight_by_the_mask():
    mask = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    layer = MaskedLinear(3, 2, mask)
    x = torch.randn(4, 3)
    expected = x @ (layer.weight * mask).T + layer.bias
    torch.testing.assert_close(layer(x), expected)
    layer(x).sum().backward()
    assert torch.equal(layer.weight.grad * (1 - mask), torch.zeros(2, 3))


def test_made_dropout_and_bad_input():
    made = MADE(4, 1, hidden=(8,), dropout=0.5)
    assert any(isinstance(m, torch.nn.Dropout) for m in made.net)
    with pytest.raises(ValueError, match="dim must be an int >= 2"):
        MADE(1, 3)
    with pytest.raises(ValueError, match="out_per_dim must be an int >= 1"):
        MADE(4, 0)
    with pytest.raises(ValueError, match=r"x must have shape \(B, 4\)"):
        MADE(4, 1)(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="mask must have shape"):
        MaskedLinear(3, 2, torch.ones(3, 2))


def test_made_with_several_inputs_per_dimension_is_autoregressive():
    torch.manual_seed(0)
    dim, per_in, per_out = 5, 4, 3
    made = MADE(dim, per_out, in_per_dim=per_in, hidden=(48, 48))
    x = torch.randn(1, dim, per_in, requires_grad=True)
    out = made(x)
    assert out.shape == (1, dim, per_out)
    for d in range(dim):
        (grad,) = torch.autograd.grad(out[0, d].sum(), x, retain_graph=True)
        assert torch.equal(grad[0, d:], torch.zeros(dim - d, per_in))
        if d > 0:
            assert grad[0, :d].abs().sum() > 0
    with pytest.raises(ValueError, match=r"x must have shape \(B, 5, 4\)"):
        made(torch.zeros(2, 5))


def _table_logits(joint):
    """logits_fn of the exact conditionals p(x_d | x_<d) of a joint table (K,)*D."""
    dim, k = joint.dim(), joint.shape[0]

    def logits_fn(tokens):
        out = torch.empty(len(tokens), dim, k)
        for b, row in enumerate(tokens.tolist()):
            for d in range(dim):
                # marginal of x_0..x_d at the prefix, summed over the later ones
                marginal = joint[tuple(row[:d])]
                if d < dim - 1:
                    marginal = marginal.sum(dim=tuple(range(1, dim - d)))
                out[b, d] = marginal.log()
        return out

    return logits_fn


def test_sample_draws_from_the_joint_chi_square():
    stats = pytest.importorskip("scipy.stats")
    g = torch.Generator().manual_seed(0)
    joint = torch.rand(3, 3, 3, generator=g) ** 2
    joint = (joint / joint.sum()).double()
    logits_fn = _table_logits(joint)
    # the conditionals tabulated once, looked up per batch row: fast enough for 20k
    table = torch.stack(
        [logits_fn(torch.tensor([[a, b, 0]]))[0] for a in range(3) for b in range(3)]
    ).view(3, 3, 3, 3)

    def fast(tokens):
        return table[tokens[:, 0], tokens[:, 1]]

    n = 20_000
    x = sample(fast, torch.zeros(n, 3, dtype=torch.int64), generator=g)
    counts = torch.bincount(x[:, 0] * 9 + x[:, 1] * 3 + x[:, 2], minlength=27)
    expected = (joint.flatten() * n).numpy()
    assert stats.chisquare(counts.numpy(), expected).pvalue > 1e-3
    # and a wrong joint is rejected by the same test
    other = joint.flip(0).flatten() * n
    assert stats.chisquare(counts.numpy(), other.numpy()).pvalue < 1e-6


def test_sample_keeps_the_prefix_and_repeats_with_the_seed():
    torch.manual_seed(0)
    made = MADE(6, 4, in_per_dim=4, hidden=(32,))

    def logits_fn(tokens):
        return made(torch.nn.functional.one_hot(tokens, 4).float())

    prefix = torch.tensor([[3, 1, 0, 0, 0, 0]] * 50)
    a = sample(logits_fn, prefix, start=2, generator=torch.Generator().manual_seed(1))
    b = sample(logits_fn, prefix, start=2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and torch.equal(a[:, :2], prefix[:, :2])
    assert a.min() >= 0 and a.max() <= 3 and len(a[:, 2:].unique()) > 1
    assert torch.equal(prefix[:, 2:], torch.zeros(50, 4, dtype=torch.int64))
    # a temperature near zero draws the most likely token at every step
    greedy = sample(logits_fn, prefix, start=2, temperature=1e-6)
    assert torch.equal(greedy, greedy[:1].expand(50, 6))


def test_sample_bad_input():
    def logits_fn(tokens):
        return torch.zeros(*tokens.shape, 3)

    tokens = torch.zeros(2, 4, dtype=torch.int64)
    with pytest.raises(TypeError, match="logits_fn must be callable"):
        sample(None, tokens)
    with pytest.raises(TypeError, match="tokens must be an int64 tensor"):
        sample(logits_fn, tokens.float())
    with pytest.raises(ValueError, match="start must be <= D = 4"):
        sample(logits_fn, tokens, start=5)
    with pytest.raises(ValueError, match="temperature must be"):
        sample(logits_fn, tokens, temperature=0.0)
    with pytest.raises(ValueError, match=r"logits_fn\(tokens\) must have shape"):
        sample(lambda t: torch.zeros(2, 3, 3), tokens)

"""gentorch.arm: MADE's outputs depend only on earlier inputs, checked by autograd."""

from __future__ import annotations

import pytest
import torch

from gentorch.arm import MADE, MaskedLinear


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

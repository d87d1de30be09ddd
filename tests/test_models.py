"""Tests of ddpm_lib.models: parameter counts, shapes, dtypes, the step table and config round trips."""
import pytest
import torch

from ddpm_lib.models import EpsMLP, TinyUNet, build_model, count_parameters, sinusoidal_table

torch.set_num_threads(1)


def test_parameter_counts():
    assert count_parameters(EpsMLP()) == 54274                       # plain 3×128 MLP, 5.4×10⁴
    assert 1e5 <= count_parameters(EpsMLP(block="residual")) <= 1.5e5
    assert count_parameters(TinyUNet()) <= 3e5
    assert count_parameters(EpsMLP(width=64, depth=2)) < count_parameters(EpsMLP())


@pytest.mark.parametrize("block", ["residual", "plain"])
def test_mlp_shapes_and_steps(block):
    m = EpsMLP(dim=3, width=32, depth=2, n_steps=50, emb_dim=16, block=block)
    x = torch.randn(7, 3)
    i = torch.randint(1, 51, (7,))
    assert m(x, i).shape == (7, 3)
    # an int step is broadcast over the batch and equals the tensor form
    assert torch.equal(m(x, 5), m(x, torch.full((7,), 5, dtype=torch.long)))


def test_unet_shapes():
    m = TinyUNet(n_steps=100)
    x = torch.randn(5, 1, 8, 8)
    assert m(x, torch.randint(1, 101, (5,))).shape == (5, 1, 8, 8)


def test_float64_inputs_are_cast_back():
    m = EpsMLP(width=16, depth=1)
    x = torch.randn(4, 2, dtype=torch.float64)
    out = m(x, torch.tensor([1, 2, 3, 4]))
    assert out.dtype == torch.float64
    assert next(m.parameters()).dtype == torch.float32


def test_parameters_float32_under_float64_default():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert next(EpsMLP(width=8, depth=1).parameters()).dtype == torch.float32
        assert next(TinyUNet(base=8).parameters()).dtype == torch.float32
    finally:
        torch.set_default_dtype(old)


def test_sinusoidal_table():
    t = sinusoidal_table(10, 8)
    assert t.shape == (11, 8) and t.dtype == torch.float32
    assert torch.allclose(t[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    assert torch.allclose(t.pow(2).reshape(11, 2, 4).sum(1), torch.ones(11, 4))  # sin² + cos² = 1
    with pytest.raises(ValueError, match="even"):
        sinusoidal_table(10, 7)


@pytest.mark.parametrize("model", [EpsMLP(width=32, depth=2, n_steps=20), TinyUNet(base=8, n_steps=20)])
def test_config_round_trip(model):
    cfg = model.config()
    clone = build_model(cfg)
    assert clone.config() == cfg
    clone.load_state_dict(model.state_dict())
    x = torch.randn((3,) + ((2,) if isinstance(model, EpsMLP) else (1, 8, 8)))
    assert torch.equal(clone(x, 4), model(x, 4))
    assert "step_table" not in model.state_dict()  # derived from the config, not stored


def test_build_model_errors():
    with pytest.raises(ValueError, match="unknown model class"):
        build_model({"class": "Transformer"})
    with pytest.raises(ValueError, match="does not match"):
        build_model({"class": "EpsMLP", "colour": 3})
    with pytest.raises(ValueError, match="residual"):
        EpsMLP(block="dense")

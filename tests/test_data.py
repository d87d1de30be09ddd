"""Tests of ddpm_lib.data.make_dataset."""
import pytest
import torch

from ddpm_lib.data import DATASETS, make_dataset


@pytest.mark.parametrize("name", ["mixture", "ring", "separated", "moons", "swiss_roll"])
def test_2d_sets(name):
    x = make_dataset(name, 500, generator=torch.Generator().manual_seed(0))
    assert x.shape[0] == 500 and x.dim() == 2 and x.dtype == torch.float32
    assert torch.isfinite(x).all()
    y = make_dataset(name, 500, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, y)  # reproducible from the generator


@pytest.mark.parametrize("name", ["moons", "swiss_roll"])
def test_standardised(name):
    x = make_dataset(name, 40000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert x.shape == (40000, 2)
    assert x.mean(0).abs().max() < 0.03
    assert abs(float(x.var(0).mean()) - 1.0) < 0.03


def test_mixture_is_the_ring():
    x = make_dataset("mixture", 20000, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    r = x.norm(dim=1)
    assert abs(float(r.mean()) - 3.0) < 0.05  # modes on the circle of radius 3


def test_digits():
    x = make_dataset("digits", None)
    assert x.shape == (1797, 1, 8, 8)
    assert float(x.min()) == -1.0 and float(x.max()) == 1.0
    sub = make_dataset("digits", 100, generator=torch.Generator().manual_seed(0))
    assert sub.shape == (100, 1, 8, 8)
    with pytest.raises(ValueError, match="1797"):
        make_dataset("digits", 5000)


def test_errors():
    with pytest.raises(ValueError) as err:
        make_dataset("mnist", 10)
    for name in DATASETS:
        assert name in str(err.value)
    with pytest.raises(ValueError, match="needs a number of points"):
        make_dataset("moons", None)
    with pytest.raises(ValueError):
        make_dataset("moons", 0)


@pytest.mark.parametrize("name", ["moons", "swiss_roll"])
def test_2d_sets_come_from_scikit_learn(name):
    """moons / swiss_roll are scikit-learn's generators (random_state drawn from the generator), standardised."""
    from sklearn.datasets import make_moons, make_swiss_roll

    from ddpm_lib import data

    seed = int(torch.randint(0, 2 ** 31 - 1, (), generator=torch.Generator().manual_seed(5)))
    if name == "moons":
        pts, centre, scale = make_moons(300, noise=0.1, random_state=seed)[0], data._MOONS_CENTRE, data._MOONS_SCALE
    else:
        pts = make_swiss_roll(300, noise=0.5, random_state=seed)[0][:, [0, 2]]
        centre, scale = data._SWISS_CENTRE, data._SWISS_SCALE
    x = make_dataset(name, 300, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    assert torch.allclose(x * scale + torch.tensor(centre, dtype=torch.float64),
                          torch.as_tensor(pts, dtype=torch.float64), rtol=0, atol=1e-12)

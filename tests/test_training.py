"""Tests of ddpm_lib.training: the DSM loss, the loop's reproducibility and speed, bad inputs, helpers."""
import math
import os
import signal
import time

import pytest
import torch

from ddpm_lib.mixtures import GaussianMixture, ring_mixture
from ddpm_lib.models import EpsMLP, TinyUNet
from ddpm_lib.schedules import linear_schedule
from ddpm_lib.devices import resolve_device
from ddpm_lib.evaluation import eps_error_by_step, irreducible_loss
from ddpm_lib.sampling import sample
from ddpm_lib.training import TrainConfig, dsm_loss, train

torch.set_num_threads(1)
SCHED = linear_schedule(100, beta_start=1e-3, beta_end=0.2)


def _cfg(**kw):
    base = dict(steps=30, batch_size=64, progress=False, device="cpu", log_every=10)
    base.update(kw)
    return TrainConfig(**base)


def _data(n=512, seed=0):
    return ring_mixture().sample(n, generator=torch.Generator().manual_seed(seed)).float()


def test_zero_predictor_scores_one_per_coordinate():
    """With ε̂ = 0 the loss is mean ε², whose expectation is exactly 1; check within 4 standard errors."""
    zero = lambda x, i: torch.zeros_like(x)  # noqa: E731
    g = torch.Generator().manual_seed(0)
    vals = torch.tensor([float(dsm_loss(zero, _data(256, k), SCHED, g)) for k in range(40)], dtype=torch.float64)
    se = float(vals.std() / math.sqrt(len(vals)))
    assert abs(float(vals.mean()) - 1.0) < 4 * se, (float(vals.mean()), se)
    # per batch the standard error is √(2/(256·2)) ≈ 0.0625; the spread must match
    assert 0.03 < float(vals.std()) < 0.1


def test_dsm_loss_uses_generator():
    m = EpsMLP(width=16, depth=1, n_steps=100)
    x = _data(64)
    a = dsm_loss(m, x, SCHED, torch.Generator().manual_seed(3))
    b = dsm_loss(m, x, SCHED, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.dim() == 0


def test_same_seed_same_weights():
    ws = []
    for _ in range(2):
        torch.manual_seed(0)
        r = train(EpsMLP(width=32, depth=1, n_steps=100), _data(), SCHED, _cfg(seed=5))
        ws.append(torch.cat([p.flatten() for p in r.ema_model.parameters()]))
    assert torch.equal(ws[0], ws[1])
    torch.manual_seed(0)
    r = train(EpsMLP(width=32, depth=1, n_steps=100), _data(), SCHED, _cfg(seed=6))
    assert not torch.equal(ws[0], torch.cat([p.flatten() for p in r.ema_model.parameters()]))


def test_history_fields():
    r = train(EpsMLP(width=16, depth=1, n_steps=100), _data(), SCHED, _cfg(steps=25))
    h = r.history
    assert len(h["loss"]) == 25 and h["step"] == 25 == r.step
    assert h["wall_time"] > 0 and h["steps_per_second"] > 0
    assert r.ema_model is not r.model and not r.interrupted


def test_training_lowers_the_loss_quickly():
    """A short CPU run (well under 20 s) takes the loss far below its starting value."""
    torch.manual_seed(0)
    t0 = time.perf_counter()
    r = train(EpsMLP(width=64, depth=2, n_steps=100), _data(4096), SCHED,
              _cfg(steps=800, batch_size=256, lr=3e-3, log_every=100))
    assert time.perf_counter() - t0 < 20
    loss = r.history["loss"]
    first, last = sum(loss[:20]) / 20, sum(loss[-200:]) / 200
    assert last < 0.6 * first, (first, last)
    # and close to the exact optimum's loss for this mixture and schedule (within 25 %)
    irr, se = irreducible_loss(ring_mixture(), SCHED, 20000, torch.Generator().manual_seed(1))
    assert last < 1.25 * irr + 4 * se, (last, irr)


def test_unet_trains_a_few_steps():
    x = torch.rand(64, 1, 8, 8) * 2 - 1
    r = train(TinyUNet(base=8, n_steps=100), x, SCHED, _cfg(steps=5, batch_size=16))
    assert len(r.history["loss"]) == 5 and all(math.isfinite(v) for v in r.history["loss"])


@pytest.mark.parametrize("kw, match", [
    (dict(batch_size=0), "batch_size"), (dict(lr=0.0), "lr"), (dict(lr=-1e-3), "lr"), (dict(steps=0), "steps"),
    (dict(ema_decay=1.0), "ema_decay"), (dict(device="tpu"), "device"), (dict(amp="fp8"), "amp"),
])
def test_bad_config(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _cfg(**kw))


def test_cuda_unavailable_is_clear():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _cfg(device="cuda"))


def test_bad_data_fails_before_work():
    m = EpsMLP(width=8, depth=1, n_steps=100)
    before = [p.clone() for p in m.parameters()]
    with pytest.raises(ValueError, match="does not fit EpsMLP"):
        train(m, torch.randn(100, 3), SCHED, _cfg())
    with pytest.raises(ValueError, match="does not fit TinyUNet"):
        train(TinyUNet(base=8, n_steps=100), torch.randn(10, 2), SCHED, _cfg())
    bad = _data()
    bad[7, 1] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        train(m, bad, SCHED, _cfg())
    with pytest.raises(ValueError, match="n_steps=100"):
        train(EpsMLP(width=8, depth=1, n_steps=1000), _data(), SCHED, _cfg())
    with pytest.raises(FileNotFoundError):
        train(m, _data(), SCHED, _cfg(), resume_from="/nonexistent/ckpt.pt")
    assert all(torch.equal(a, b) for a, b in zip(before, m.parameters()))


def test_ctrl_c_stops_at_a_step_boundary_and_saves(tmp_path):
    path = tmp_path / "ck.pt"

    def press_ctrl_c(state):
        os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt) as err:
        train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _cfg(steps=100), checkpoint=path,
              callback=press_ctrl_c, callback_every=20)
    # Ctrl-C during the callback after step 20: the loop stops before step 21 and saves step 20
    assert err.value.step == 20 and path.is_file()
    from ddpm_lib.checkpoints import load_checkpoint
    assert load_checkpoint(path).step == 20


def test_irreducible_loss_of_a_standard_gaussian():
    """For x_0 ~ N(0, I) the optimum leaves ᾱ_i per coordinate, so the loss is the mean of ᾱ_1..ᾱ_n."""
    gm = GaussianMixture(torch.ones(1), torch.zeros(1, 2), torch.eye(2)[None])
    mean, se = irreducible_loss(gm, SCHED, 40000, torch.Generator().manual_seed(0))
    exact = float(SCHED.alpha_bars[1:].mean())
    assert abs(mean - exact) < 4 * se, (mean, exact, se)


class _ExactEps(torch.nn.Module):
    def __init__(self, gm, schedule):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        self.eps = gm.eps_fn(schedule)

    def forward(self, x, i):
        return self.eps(x, i)


def test_eps_error_by_step_is_zero_for_the_exact_eps():
    gm = ring_mixture()
    err = eps_error_by_step(_ExactEps(gm, SCHED), gm, SCHED, [1, 50, 100], n=500,
                            generator=torch.Generator().manual_seed(0))
    assert err.shape == (3,) and float(err.max()) < 1e-10
    m = EpsMLP(width=8, depth=1, n_steps=100)
    err = eps_error_by_step(m, gm, SCHED, [1, 100], n=500, generator=torch.Generator().manual_seed(0))
    assert float(err.min()) > 0.1  # an untrained model is far off


class _ScaledExactEps(_ExactEps):
    def forward(self, x, i):
        return 1.5 * self.eps(x, i)


def test_eps_error_by_step_is_the_relative_norm_of_the_error():
    """A model predicting 1.5 ε* has ‖ε_θ − ε*‖ / ‖ε*‖ = 0.5 exactly, on any draws: a wrong norm,
    a missing square root or a per-coordinate mean in place of the ratio of norms would not give it."""
    gm = ring_mixture()
    err = eps_error_by_step(_ScaledExactEps(gm, SCHED), gm, SCHED, [1, 50, 100], n=300,
                            generator=torch.Generator().manual_seed(0))
    assert torch.allclose(err, torch.full((3,), 0.5, dtype=torch.float64), atol=1e-12)


@pytest.mark.parametrize("sampler", ["ancestral", "ddim", "dpm++2m"])
def test_sample_shapes(sampler):
    m = EpsMLP(width=16, depth=1, n_steps=100)
    steps = None if sampler == "ancestral" else 20  # the ancestral sampler runs every step
    x = sample(m, SCHED, 50, (2,), generator=torch.Generator().manual_seed(0), sampler=sampler, steps=steps)
    assert x.shape == (50, 2) and torch.isfinite(x).all()
    y = sample(m, SCHED, 50, (2,), generator=torch.Generator().manual_seed(0), sampler=sampler, steps=steps)
    assert torch.equal(x, y)
    with pytest.raises(ValueError, match="unknown sampler"):
        sample(m, SCHED, 5, (2,), sampler="euler")


def test_ddim_with_exact_eps_recovers_the_mixture():
    gm = ring_mixture()
    x = sample(_ExactEps(gm, SCHED), SCHED, 2000, (2,), generator=torch.Generator().manual_seed(0),
               sampler="ddim", steps=100)
    r = x.norm(dim=1)
    assert abs(float(r.mean()) - 3.0) < 0.1


def test_dsm_loss_reductions_agree_and_check_inputs():
    m = EpsMLP(width=16, depth=1, n_steps=100)
    x = _data(64)
    per = dsm_loss(m, x, SCHED, torch.Generator().manual_seed(3), reduction="none")
    mean = dsm_loss(m, x, SCHED, torch.Generator().manual_seed(3))
    assert per.shape == (64,) and torch.allclose(per.mean(), mean)
    with pytest.raises(ValueError, match="reduction"):
        dsm_loss(m, x, SCHED, reduction="sum")
    with pytest.raises(ValueError, match="finite"):
        dsm_loss(m, torch.full((4, 2), float("nan")), SCHED)
    with pytest.raises(TypeError, match="Schedule"):
        dsm_loss(m, x, "linear")


def test_dsm_loss_draws_x_i_by_the_closed_form():
    """With a predictor that returns its input, the loss is mean ‖x_i − ε‖² with x_i = √ᾱ x_0 + √(1−ᾱ) ε."""
    x0 = _data(32).double()
    got = dsm_loss(lambda x, i: x, x0, SCHED, torch.Generator().manual_seed(4), reduction="none")
    g = torch.Generator().manual_seed(4)
    i = torch.randint(1, SCHED.n + 1, (32,), generator=g)
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    ab = SCHED.alpha_bars[i][:, None]
    want = ((ab.sqrt() * x0 + (1 - ab).sqrt() * eps - eps) ** 2).mean(1)
    assert torch.allclose(got, want, rtol=1e-12, atol=0)


def test_lr_schedule_is_the_config_curve():
    cfg = _cfg(steps=20, lr_schedule="cosine", warmup_steps=5, lr_min_ratio=0.2)
    r = train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, cfg)
    assert math.isclose(r.optimizer.param_groups[0]["lr"], cfg.lr * cfg.lr_factor(20))
    assert math.isclose(cfg.lr_factor(0), 0.2) and math.isclose(cfg.lr_factor(5), 1.0)
    assert math.isclose(cfg.lr_factor(20), 0.2)


class _PointModel(torch.nn.Module):
    """Not a ddpm_lib class: the data shape is read from its ``dim``, not from its name."""

    def __init__(self):
        super().__init__()
        self.dim = 3
        self.lin = torch.nn.Linear(3, 3)

    def forward(self, x, i):
        return self.lin(x)


def test_data_shape_comes_from_the_model_attributes():
    with pytest.raises(ValueError, match=r"does not fit _PointModel: it needs \(N, 3\)"):
        train(_PointModel(), _data(), SCHED, _cfg(steps=2))
    r = train(_PointModel(), torch.randn(64, 3), SCHED, _cfg(steps=2))
    assert r.step == 2


@pytest.mark.parametrize("kw, exc, match", [
    (dict(seed=-1), ValueError, "seed"), (dict(seed=1.5), TypeError, "seed"), (dict(ema_warmup="yes"), TypeError,
     "ema_warmup"), (dict(compile=1), TypeError, "compile"), (dict(lr_schedule="step"), ValueError, "lr_schedule"),
    (dict(lr_min_ratio=2.0), ValueError, "lr_min_ratio"), (dict(warmup_steps=-1), ValueError, "warmup_steps"),
    (dict(grad_clip=0.0), ValueError, "grad_clip"), (dict(log_every=0), ValueError, "log_every"),
])
def test_bad_config_fields(kw, exc, match):
    with pytest.raises(exc, match=match):
        _cfg(**kw).validate()


def test_bad_train_arguments(tmp_path):
    m, x = EpsMLP(width=8, depth=1, n_steps=100), _data()
    with pytest.raises(TypeError, match="callback must be callable"):
        train(m, x, SCHED, _cfg(), callback=3)
    with pytest.raises(ValueError, match="is a folder"):
        train(m, x, SCHED, _cfg(), checkpoint=tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="cannot write checkpoints"):
        train(m, x, SCHED, _cfg(), checkpoint=tmp_path / "file" / "c.pt")
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train(m, x, SCHED, {"steps": 3})
    with pytest.raises(TypeError, match="checkpoint_extra"):
        train(m, x, SCHED, _cfg(), checkpoint_extra=["data"])

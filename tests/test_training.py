"""Tests of ddpm_lib.training: the DSM loss, the loop's reproducibility and speed, bad inputs, helpers."""
import copy
import math
import os
import re
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


# -- tests from the mutation review of training.py (issue #14); every one passes its TrainConfig in full --------
def _full_cfg(**kw):
    """A config with every setting these tests depend on written out (the defaults may change)."""
    base = dict(steps=4, batch_size=16, lr=2e-3, weight_decay=0.0, grad_clip=1.0, ema_decay=0.995, ema_warmup=True,
                lr_schedule="constant", lr_min_ratio=0.1, warmup_steps=0, seed=0, device="cpu", compile=False,
                amp="off", progress=False, log_every=10, checkpoint_every=None)
    base.update(kw)
    return TrainConfig(**base)


def _flat(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.mark.parametrize("amp", ["off", "auto"])
def test_first_logged_loss_is_the_dsm_loss_of_the_seeds_first_minibatch(amp):
    """Every draw of a step comes from one CPU generator seeded with ``seed``: the minibatch indices
    (uniform over all N points), then the loss's steps and noise. So the first logged loss is
    ``dsm_loss`` of the initial model on ``data[randint(N, (batch,), g)]`` with the same ``g``, exactly, in
    float32 (the model's dtype) even for float64 data, without autocast on the CPU (``"auto"`` is ``"off"``
    there). Catches indices drawn from another generator or below ``data.shape[1]``, the loss's draws
    taken off the generator, float64 data fed to a float32 model, and autocast switched on."""
    data = ring_mixture().sample(300, generator=torch.Generator().manual_seed(0))  # float64, N = 300
    torch.manual_seed(0)
    model = EpsMLP(width=8, depth=1, n_steps=100)
    start = copy.deepcopy(model)
    r = train(model, data, SCHED, _full_cfg(steps=1, seed=7, amp=amp))
    g = torch.Generator().manual_seed(7)
    idx = torch.randint(300, (16,), generator=g)
    with torch.no_grad():
        want = dsm_loss(start.train(), data.float()[idx], SCHED, g)
    assert r.history["loss"][0] == float(want)


def test_amp_bf16_on_the_cpu_autocasts_the_forward_pass():
    """``amp="bf16"`` runs the forward pass under bfloat16 autocast on any device: the first loss is
    the float32 one up to bfloat16 rounding (8 bits of mantissa), but not equal to it."""
    torch.manual_seed(0)
    off = train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=1, amp="off"))
    torch.manual_seed(0)
    bf16 = train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=1, amp="bf16"))
    a, b = off.history["loss"][0], bf16.history["loss"][0]
    assert a != b and abs(a - b) < 0.05 * a, (a, b)


@pytest.mark.parametrize("kw, stop_at, factor", [
    (dict(steps=6, lr_schedule="cosine", warmup_steps=0, lr_min_ratio=0.3), None, 0.3),   # cosine to its floor
    (dict(steps=6, lr_schedule="constant", warmup_steps=4), None, 1.0),                   # warm-up, then flat
    (dict(steps=10, lr_schedule="cosine", warmup_steps=2, lr_min_ratio=0.5), 6, 0.75),    # half-way down
])
def test_the_learning_rate_follows_warmup_and_cosine(kw, stop_at, factor):
    """After k optimizer steps the learning rate is ``lr`` times the curve at k: linear warm-up to 1 over
    ``warmup_steps``, then constant or a cosine to ``lr_min_ratio`` at ``steps``. Hand-computed values:
    the end of a cosine is its floor; a finished warm-up gives 1; half-way through a cosine from 1 to 0.5
    is 0.75. Catches a scheduler that is not stepped for a cosine without warm-up or a warm-up alone."""
    cb = (lambda s: s.step == stop_at) if stop_at else None
    r = train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(lr=1e-3, **kw), callback=cb,
              callback_every=1)
    assert r.step == (stop_at or kw["steps"])
    assert math.isclose(r.optimizer.param_groups[0]["lr"], 1e-3 * factor, rel_tol=1e-12)


def test_callback_sees_the_live_state_and_can_stop_training(tmp_path):
    """``callback(state)`` runs after every ``callback_every``-th step with the step, the model (in eval
    mode), the EMA model, the losses so far and the training time so far; returning True stops the run."""
    seen = []

    def cb(state):
        seen.append((state.step, state.model, state.model.training, state.ema_model, len(state.losses),
                     state.train_seconds))
        return state.step == 6

    r = train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=10), callback=cb,
              callback_every=3)
    assert [s[0] for s in seen] == [3, 6] and [s[4] for s in seen] == [3, 6]
    assert all(s[1] is r.model and s[2] is False and s[3] is r.ema_model for s in seen)
    assert 0 < seen[0][5] <= seen[1][5] <= r.history["wall_time"]
    assert r.step == 6 and len(r.history["loss"]) == 6 and r.history["stopped_early"] is True
    assert r.model.training is False  # train() hands the model back in eval mode


def test_callback_every_defaults_to_1000():
    """The documented default: the callback first runs after step 1000."""
    seen = []
    train(EpsMLP(width=4, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=1000, batch_size=2, log_every=1000),
          callback=lambda s: seen.append(s.step))
    assert seen == [1000]


def test_result_and_history_fields_of_a_fresh_run(tmp_path):
    """The result carries the objects of the run; a fresh run's total training time is its own; the
    checkpoint holds the configuration, the schedule's betas and the caller's extra data."""
    from ddpm_lib.checkpoints import load_checkpoint
    cfg = _full_cfg(steps=3, seed=11)
    m = EpsMLP(width=8, depth=1, n_steps=100)
    r = train(m, _data(), SCHED, cfg, checkpoint=tmp_path / "c.pt", checkpoint_extra={"data": "ring"})
    ck = load_checkpoint(tmp_path / "c.pt")
    assert ck.train_config == cfg.to_dict() and ck.extra["data"] == "ring"
    assert torch.equal(ck.schedule().alpha_bars, SCHED.alpha_bars)
    assert r.model is m and r.config is cfg and r.device == torch.device("cpu")
    assert r.generator.initial_seed() == 11 and r.interrupted is False and r.checkpoint == tmp_path / "c.pt"
    h = r.history
    assert h["start_step"] == 0 and h["step"] == 3 and h["stopped_early"] is False
    assert h["wall_time_total"] == h["wall_time"] > 0 and h["steps_per_second"] == 3 / h["wall_time"]
    assert train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, cfg).checkpoint is None


class _SlowMLP(EpsMLP):
    """An EpsMLP whose forward pass takes at least 20 ms: a lower bound on the training time."""

    def forward(self, x, i):
        time.sleep(0.02)
        return super().forward(x, i)


def test_training_time_counts_every_step_and_no_callback_or_checkpoint(tmp_path):
    """``wall_time`` sums the time of every step (≥ 4 × 20 ms here) but not the callbacks' (4 × 50 ms of
    sleep) or the checkpoints' time, so it lies in [0.08 s, elapsed − 0.2 s]; a resumed run's
    ``wall_time_total`` adds the saved total, and its ``steps_per_second`` counts only its own steps."""
    path = tmp_path / "c.pt"
    t0 = time.perf_counter()
    r = train(_SlowMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=4, checkpoint_every=2),
              checkpoint=path, callback=lambda s: time.sleep(0.05), callback_every=1)
    elapsed = time.perf_counter() - t0
    assert 0.08 <= r.history["wall_time"] <= elapsed - 0.2, (r.history["wall_time"], elapsed)
    from ddpm_lib.checkpoints import load_checkpoint
    saved = load_checkpoint(path).history
    assert saved["wall_time_total"] == r.history["wall_time_total"] and len(saved["loss"]) == 4
    r2 = train(_SlowMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=7, checkpoint_every=2),
               resume_from=path)
    h = r2.history
    assert h["start_step"] == 4 and h["step"] == 7 and h["loss"][:4] == r.history["loss"]
    assert h["steps_per_second"] == 3 / h["wall_time"] and h["wall_time"] >= 0.06
    assert h["wall_time_total"] == saved["wall_time_total"] + h["wall_time"]


def test_checkpoints_are_written_every_checkpoint_every_steps(tmp_path):
    """With ``checkpoint_every=3`` the file holds step 3 after steps 3–5 and step 6 after step 6 (and
    none before step 3); without a checkpoint path ``checkpoint_every`` writes nothing and fails nothing."""
    from ddpm_lib.checkpoints import load_checkpoint
    path = tmp_path / "c.pt"
    on_disk = []
    train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=7, checkpoint_every=3),
          checkpoint=path, callback=lambda s: on_disk.append(load_checkpoint(path).step if path.is_file() else None),
          callback_every=1)
    assert on_disk == [None, None, 3, 3, 3, 6, 6] and load_checkpoint(path).step == 7
    r = train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=4, checkpoint_every=2))
    assert r.checkpoint is None and r.step == 4


class _NaNAfter(EpsMLP):
    """An EpsMLP whose output turns NaN from its ``k``-th forward pass on."""

    def __init__(self, k, **kw):
        super().__init__(**kw)
        self.k, self.calls = k, 0

    def forward(self, x, i):
        self.calls += 1
        out = super().forward(x, i)
        return out * float("nan") if self.calls >= self.k else out


def test_a_nan_loss_stops_training_at_the_first_log_step_after_it():
    """The loss is read back every ``log_every`` steps (and at the last): a NaN from step 3 on, with
    ``log_every=2``, is reported at step 4, not at step 3 and not only at the end (step 10)."""
    with pytest.raises(FloatingPointError, match=r"became nan at step 4; lower the learning rate \(lr=0.002\)"):
        train(_NaNAfter(3, width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=10, log_every=2))


class _InterruptedMLP(EpsMLP):
    """An EpsMLP whose first forward pass is interrupted (Ctrl-C outside the main thread, or a second one)."""

    def forward(self, x, i):
        raise KeyboardInterrupt


def test_an_interrupt_before_the_first_step_saves_step_0(tmp_path):
    """A KeyboardInterrupt inside the first step: the checkpoint holds step 0 and an empty loss history,
    and the re-raised interrupt names the step and the file (no file: no mention of one)."""
    from ddpm_lib.checkpoints import load_checkpoint
    path = tmp_path / "c.pt"
    saved_msg = r"^training interrupted at step 0; checkpoint saved to .*c\.pt$"
    with pytest.raises(KeyboardInterrupt, match=saved_msg) as err:
        train(_InterruptedMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(), checkpoint=path)
    assert err.value.step == 0 and err.value.checkpoint == path
    ck = load_checkpoint(path)
    assert ck.step == 0 and ck.history["loss"].shape == (0,)
    with pytest.raises(KeyboardInterrupt, match=r"^training interrupted at step 0$") as err:
        train(_InterruptedMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg())
    assert err.value.checkpoint is None


def test_gradient_clipping_is_applied_only_when_asked():
    """``grad_clip=None`` trains unclipped; a clip of 1e-12 shrinks every gradient below AdamW's ε = 1e-8,
    so its first update is about 1e-4 of the unclipped one: the weights must differ."""
    ws = {}
    for clip in (None, 1e-12, 1e3):
        torch.manual_seed(0)
        ws[clip] = _flat(train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED,
                               _full_cfg(steps=1, grad_clip=clip)).model)
    torch.manual_seed(0)
    w0 = _flat(EpsMLP(width=8, depth=1, n_steps=100))
    assert torch.equal(ws[None], ws[1e3])  # a clip that never binds changes nothing
    assert (ws[1e-12] - w0).abs().max() < 1e-3 * (ws[None] - w0).abs().max()


def test_progress_bar_shows_the_steps_and_the_loss(capsys):
    """``progress=True`` draws a "train" bar on stderr ending at steps/steps with the running loss;
    ``progress=False`` draws nothing."""
    train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=5, log_every=2, progress=True))
    err = capsys.readouterr().err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("train: 100%") and "| 5/5 [" in last and "step/s" in last, last
    assert re.search(r"loss=\d\.\d{4}\]$", last), last
    train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=2, progress=False))
    assert capsys.readouterr().err == ""


class _OneParameter(torch.nn.Module):
    """A model with a single parameter tensor (no bias) that takes points of dimension ``dim``."""

    def __init__(self):
        super().__init__()
        self.dim = 2
        self.w = torch.nn.Parameter(torch.eye(2))

    def forward(self, x, i):
        return x @ self.w


class _SquareButNoChannels(_OneParameter):
    """``image_size`` alone does not make an image model: the shape comes from ``dim``."""

    image_size = 8


def test_unusual_models_and_data_train():
    """A single-parameter model, a model with ``image_size`` but no ``channels``, one data point, data
    given as nested lists, and ``config=None`` (the default ``TrainConfig()``) all train."""
    for model in (_OneParameter(), _SquareButNoChannels()):
        assert train(model, _data(), SCHED, _full_cfg(steps=2)).step == 2
    assert train(_OneParameter(), _data(1), SCHED, _full_cfg(steps=2)).step == 2
    r = train(_OneParameter(), [[1.0, 2.0], [0.5, -1.0]], SCHED, _full_cfg(steps=2))
    assert r.step == 2 and torch.isfinite(_flat(r.model)).all()


def test_config_none_is_the_default_config(monkeypatch):
    """``config=None`` means ``TrainConfig()`` (defaults made small and CPU-only here to keep it fast)."""
    import dataclasses

    from ddpm_lib import training

    @dataclasses.dataclass
    class _Small(TrainConfig):
        steps: int = 2
        device: str = "cpu"
        progress: bool = False

    monkeypatch.setattr(training, "TrainConfig", _Small)
    r = train(_OneParameter(), _data(), SCHED, None)
    assert type(r.config) is _Small and r.step == 2


def test_bad_data_and_arguments_name_what_is_wrong(tmp_path):
    """Each error names the argument and what it got."""
    m = EpsMLP(width=8, depth=1, n_steps=100)
    with pytest.raises(ValueError, match=r"data must have shape \(N, \.\.\.\) with N >= 1 points, got \(5,\)"):
        train(_PointModel(), torch.randn(5), SCHED, _full_cfg())
    with pytest.raises(ValueError, match=r"with N >= 1 points, got \(0, 2\)"):
        train(m, torch.zeros(0, 2), SCHED, _full_cfg())
    bad = _data()
    bad[3, 0] = float("inf")
    with pytest.raises(ValueError, match="^data must be finite"):
        train(m, bad, SCHED, _full_cfg())
    with pytest.raises(ValueError, match=r"does not fit TinyUNet: it needs \(N, 1, 8, 8\)"):
        train(TinyUNet(base=8, image_size=8, n_steps=100), torch.randn(4, 8, 8), SCHED, _full_cfg())
    with pytest.raises(FileNotFoundError, match=r"^cannot resume: no checkpoint at .*nothing\.pt$"):
        train(m, _data(), SCHED, _full_cfg(), resume_from=tmp_path / "nothing.pt")
    with pytest.raises(TypeError, match="config must be a TrainConfig, got dict"):
        train(m, _data(), SCHED, {"steps": 3})
    with pytest.raises(TypeError, match="callback must be callable, got int"):
        train(m, _data(), SCHED, _full_cfg(), callback=3)
    with pytest.raises(TypeError, match="checkpoint_extra must be a dict, got list"):
        train(m, _data(), SCHED, _full_cfg(), checkpoint_extra=["data"])
    with pytest.raises(ValueError, match="^callback_every must be an integer >= 1"):
        train(m, _data(), SCHED, _full_cfg(), callback_every=0)


def test_a_checkpoint_in_new_folders_is_written(tmp_path):
    """The folders of a checkpoint path are created (all of them)."""
    path = tmp_path / "a" / "b" / "c.pt"
    r = train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED, _full_cfg(steps=1), checkpoint=path)
    assert path.is_file() and r.checkpoint == path


class _Float64Out(torch.nn.Module):
    """Returns its input in float64 and records the dtype it was given."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x, i):
        self.seen.append(x.dtype)
        return x.double()


def test_dsm_loss_works_in_the_dtype_of_x0():
    """For float32 x0 the model sees a float32 x_i (ᾱ rounded to float32, not float64 promoted in) and the
    loss is float32 even when the model answers in another dtype (as under bf16 autocast)."""
    m = _Float64Out()
    for reduction in ("mean", "none"):
        loss = dsm_loss(m, _data(8), SCHED, torch.Generator().manual_seed(0), reduction=reduction)
        assert loss.dtype == torch.float32
    assert m.seen == [torch.float32, torch.float32]


def test_dsm_loss_without_a_generator_draws_from_torchs_global_one():
    """``generator=None``: the steps and the noise come from torch's global generator (so a seed reproduces)."""
    m = EpsMLP(width=8, depth=1, n_steps=100)
    torch.manual_seed(5)
    a = dsm_loss(m, _data(16), SCHED)
    torch.manual_seed(5)
    assert torch.equal(a, dsm_loss(m, _data(16), SCHED))


def test_dsm_loss_uses_the_alpha_bar_table_it_is_given():
    """A given ``alpha_bars`` replaces the schedule's: with ᾱ ≡ 0, x_i = ε, so the identity predicts ε
    exactly and the loss is 0; the schedule's own table gives the default's value. A table of another
    length is refused, naming the length wanted."""
    x0, ident = _data(16), (lambda x, i: x)
    assert float(dsm_loss(ident, x0, SCHED, torch.Generator(), alpha_bars=torch.zeros(SCHED.n + 1))) == 0.0
    own = dsm_loss(ident, x0, SCHED, torch.Generator().manual_seed(1), alpha_bars=SCHED.alpha_bars.float())
    assert torch.equal(own, dsm_loss(ident, x0, SCHED, torch.Generator().manual_seed(1)))
    for bad in (torch.zeros(SCHED.n), torch.zeros(SCHED.n + 2)):
        with pytest.raises(ValueError, match=r"^alpha_bars must have shape \(101,\) for this schedule, got \(10[02],"):
            dsm_loss(ident, x0, SCHED, alpha_bars=bad)


def test_dsm_loss_batch_shapes_and_argument_names():
    """A batch of one point and a 1-D batch (scalar points) are losses; a 0-d or empty x0 is refused, and
    each error names x0 (or the schedule's type)."""
    zero = lambda x, i: torch.zeros_like(x)  # noqa: E731
    assert dsm_loss(zero, torch.ones(1, 2), SCHED).shape == ()
    assert dsm_loss(zero, torch.ones(5), SCHED, reduction="none").shape == (5,)
    for bad in (torch.tensor(1.0), torch.zeros(0, 2)):
        with pytest.raises(ValueError, match=r"^x0 must have shape \(batch, \.\.\.\) with batch >= 1"):
            dsm_loss(zero, bad, SCHED)
    with pytest.raises(ValueError, match="^x0 must be finite"):
        dsm_loss(zero, torch.tensor([[0.0, float("nan")]]), SCHED)
    with pytest.raises(TypeError, match="^x0 must be a tensor or array-like of numbers, got str"):
        dsm_loss(zero, "points", SCHED)
    with pytest.raises(TypeError, match="^schedule must be a ddpm_lib Schedule, got str"):
        dsm_loss(zero, torch.ones(2, 2), "linear")


def test_dsm_loss_with_check_false_skips_the_checks():
    """``check=False`` (what train() uses, its data checked once) checks nothing, not even ᾱ ∈ [0, 1] in
    the closed form: a NaN x0 or a table of ᾱ = 2 gives a NaN loss, not an error."""
    assert torch.isnan(dsm_loss(lambda x, i: x, torch.full((2, 2), float("nan")), SCHED, check=False))
    assert torch.isnan(dsm_loss(lambda x, i: x, torch.ones(2, 2), SCHED, alpha_bars=torch.full((SCHED.n + 1,), 2.0),
                                check=False))


def test_compile_true_trains_the_compiled_model(monkeypatch):
    """``compile=True`` runs the steps through ``torch.compile(model)`` (a stand-in here: compiling takes
    tens of seconds on a CPU; the GPU check runs the real one) and leaves it out otherwise."""
    compiled = []

    def fake_compile(model):
        compiled.append(model)
        return lambda x, i: model(x, i) * 0  # a "compiled" model that predicts 0: the loss is mean ε²

    monkeypatch.setattr(torch, "compile", fake_compile)
    m = EpsMLP(width=8, depth=1, n_steps=100)
    r = train(m, _data(), SCHED, _full_cfg(steps=2, compile=True))
    assert compiled == [m] and r.history["loss"] != train(EpsMLP(width=8, depth=1, n_steps=100), _data(), SCHED,
                                                          _full_cfg(steps=2, compile=False)).history["loss"]
    assert compiled == [m]

"""Training an ε-predictor with the denoising score matching (DSM) loss, fast and reproducibly.

The loss (ε-prediction, Ho et al. 2020), :func:`dsm_loss`: draw ``x_0`` from the data, a step ``i``
uniform in ``1..n`` and ``ε ~ N(0, I)``, form ``x_i = √ᾱ_i x_0 + √(1−ᾱ_i) ε``
(:func:`ddpm_lib.forward.vp_marginal`) and average ``‖ε_θ(x_i, i) − ε‖²`` over the batch *and the
coordinates*. Its minimiser is the exact ``ε*(x_i, i) = −√(1−ᾱ_i) ∇ log p_i(x_i)``; what is left at
the optimum is the :func:`ddpm_lib.evaluation.irreducible_loss`.

:func:`train` is the library's loop around :func:`dsm_loss`: AdamW (fused where the device supports
it), gradient clipping, a ``LambdaLR`` learning-rate curve, an EMA of the weights for sampling
(``AveragedModel``; see :mod:`ddpm_lib.training_state`), a CPU ``torch.Generator`` for every random
draw (minibatch indices, steps, noise) so that a seed gives the same minibatches on every device,
bf16 autocast on CUDA, optional ``torch.compile``, checkpoints and bit-identical resume. It avoids
per-step host syncs (losses are read back only every ``log_every`` steps) and per-step Python work.
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from .devices import resolve_device
from .forward import vp_marginal
from .progress import progress_bar
from .schedules import Schedule
from .training_config import TrainConfig
from .training_state import StopFlag, ema_update, make_ema, make_optimizer, make_scheduler, restore
from .validation import as_tensor, check_finite, check_positive_int

__all__ = ["TrainConfig", "TrainResult", "TrainState", "train", "dsm_loss"]


# -- the loss -----------------------------------------------------------------------
def dsm_loss(model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x0: torch.Tensor, schedule: Schedule,
             generator: torch.Generator | None = None, *, reduction: str = "mean",
             alpha_bars: torch.Tensor | None = None, check: bool = True) -> torch.Tensor:
    """DSM loss ``mean ‖ε_θ(x_i, i) − ε‖²`` of ``x0`` ``(batch, ...)`` with ``i ~ U{1..n}``, ``ε ~ N(0, I)``.

    ``reduction="mean"``: a scalar (mean over batch and coordinates); ``"none"``: ``(batch,)``, the mean
    over each sample's coordinates. ``i`` then ``ε`` are drawn with ``generator`` on its own device (CPU
    by default) and moved to ``x0``'s. ``alpha_bars``: the table ``ᾱ_0..ᾱ_n`` of ``schedule`` on ``x0``'s
    device, computed once by the caller (default: ``schedule.alpha_bars``, a cumulative product per call).
    ``check=False`` skips the input checks (and their host syncs): :func:`train` checks its data once.
    """
    if check:
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a ddpm_lib Schedule, got {type(schedule).__name__}")
        x0 = check_finite(as_tensor(x0, "x0"), "x0")
        if x0.dim() < 1 or x0.shape[0] < 1:
            raise ValueError(f"x0 must have shape (batch, ...) with batch >= 1, got {tuple(x0.shape)}")
        if reduction not in ("mean", "none"):
            raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
        if alpha_bars is not None and tuple(alpha_bars.shape) != (schedule.n + 1,):
            raise ValueError(f"alpha_bars must have shape ({schedule.n + 1},) for this schedule, "
                             f"got {tuple(alpha_bars.shape)}")
    gdev = generator.device if generator is not None else torch.device("cpu")
    i = torch.randint(1, schedule.n + 1, (x0.shape[0],), generator=generator, device=gdev)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=gdev)
    if gdev != x0.device:
        i, noise = i.to(x0.device, non_blocking=True), noise.to(x0.device, non_blocking=True)
    alpha_bar = (schedule.alpha_bars.to(x0.device) if alpha_bars is None else alpha_bars)[i]
    if alpha_bar.dtype != x0.dtype:
        alpha_bar = alpha_bar.to(x0.dtype)
    alpha_bar = alpha_bar.reshape((-1,) + (1,) * (x0.dim() - 1))
    pred = model(vp_marginal(x0, alpha_bar, noise, check=check), i)
    if reduction == "none":
        return F.mse_loss(pred.to(noise.dtype), noise, reduction="none").reshape(x0.shape[0], -1).mean(dim=1)
    return F.mse_loss(pred.to(noise.dtype), noise)


# -- the result ----------------------------------------------------------------------
@dataclass
class TrainResult:
    """What :func:`train` returns: the trained model, its EMA copy (sample with this one) and the history.

    ``history``: ``loss`` (list, one float per step since step 0), ``wall_time`` (seconds of training in
    this call, callbacks excluded), ``steps_per_second`` (this call), ``start_step``, ``step``.
    """

    model: nn.Module
    ema_model: nn.Module
    history: dict[str, Any]
    step: int
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    config: TrainConfig
    device: torch.device
    interrupted: bool = False
    checkpoint: Path | None = None


@dataclass
class TrainState:
    """Passed to a ``callback`` every ``callback_every`` steps."""

    step: int
    model: nn.Module
    ema_model: nn.Module
    losses: list[torch.Tensor] = field(repr=False, default_factory=list)
    train_seconds: float = 0.0


# -- checks before any work -----------------------------------------------------------
def _point_shape(model: nn.Module) -> tuple[int, ...] | None:
    """The shape of one data point that ``model`` takes, from its ``channels``/``image_size`` or ``dim``."""
    if isinstance(getattr(model, "image_size", None), int) and isinstance(getattr(model, "channels", None), int):
        return (model.channels, model.image_size, model.image_size)
    if isinstance(getattr(model, "dim", None), int):
        return (model.dim,)
    return None


def _check_data(model: nn.Module, data: Any, schedule: Schedule) -> torch.Tensor:
    """Validate ``data`` against ``model`` before any work (shape, finiteness, steps)."""
    if not isinstance(data, torch.Tensor):
        data = as_tensor(data, "data")
    if not data.is_floating_point():
        raise TypeError(f"data must be a floating point tensor, got dtype {data.dtype}")
    if data.dim() < 2 or data.shape[0] < 1:
        raise ValueError(f"data must have shape (N, ...) with N >= 1 points, got {tuple(data.shape)}")
    check_finite(data, "data")
    want = _point_shape(model)
    if want is not None and tuple(data.shape[1:]) != want:
        raise ValueError(f"data of shape {tuple(data.shape)} does not fit {type(model).__name__}: it needs "
                         f"(N, {', '.join(map(str, want))})")
    n_model = getattr(model, "n_steps", None)
    if n_model is not None and n_model != schedule.n:
        raise ValueError(f"the model embeds steps 1..{n_model} but the schedule has n={schedule.n} steps; "
                         f"build the model with n_steps={schedule.n}")
    return data


def _check_paths(checkpoint: str | Path | None, resume_from: str | Path | None) -> None:
    if checkpoint is not None:
        path = Path(checkpoint)
        if path.is_dir():
            raise ValueError(f"checkpoint must be a file path, but {path} is a folder")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot write checkpoints to {path}: {exc.strerror or exc}") from exc
    if resume_from is not None and not Path(resume_from).is_file():
        raise FileNotFoundError(f"cannot resume: no checkpoint at {resume_from}")


# -- the loop ------------------------------------------------------------------------
def train(model: nn.Module, data: torch.Tensor, schedule: Schedule, config: TrainConfig | None = None,
          checkpoint: str | Path | None = None, resume_from: str | Path | None = None,
          callback: Callable[[TrainState], bool | None] | None = None, callback_every: int = 1000,
          checkpoint_extra: dict[str, Any] | None = None) -> TrainResult:
    """Train ``model`` (ε-prediction) on ``data`` ``(N, ...)`` with :func:`dsm_loss` until ``config.steps`` total steps.

    ``checkpoint``: path written every ``config.checkpoint_every`` steps, at the end and on Ctrl-C
    (after which ``KeyboardInterrupt`` is re-raised with the checkpoint saved).
    ``resume_from``: a checkpoint to continue from bit-identically (same model and configuration,
    run-only fields aside). ``callback(state)`` runs every ``callback_every`` steps (its time is not
    counted); returning ``True`` stops training.
    """
    cfg = config if config is not None else TrainConfig()
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(cfg).__name__}")
    cfg.validate()
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a ddpm_lib Schedule, got {type(schedule).__name__}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    if checkpoint_extra is not None and not isinstance(checkpoint_extra, dict):
        raise TypeError(f"checkpoint_extra must be a dict, got {type(checkpoint_extra).__name__}")
    callback_every = check_positive_int(callback_every, "callback_every")
    data = _check_data(model, data, schedule)
    _check_paths(checkpoint, resume_from)
    device = resolve_device(cfg.device)
    amp = cfg.amp
    if amp == "auto":
        amp = "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "off"

    # -- set-up (every random draw of training comes from `g`, on the CPU) -------------
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    data_dev = data.to(device=device, dtype=params[0].dtype).contiguous()
    opt = make_optimizer(params, cfg, device)
    sched = make_scheduler(opt, cfg)
    ema = make_ema(model, cfg)
    g = torch.Generator().manual_seed(cfg.seed)
    start = 0
    losses: list[torch.Tensor] = []
    prev_wall = 0.0
    if resume_from is not None:
        start, rng, hist = restore(resume_from, cfg, model, ema, opt, sched)
        g.set_state(rng["data"])
        if "torch" in rng:
            torch.set_rng_state(rng["torch"])
        if hist is not None and "loss" in hist:
            losses = list(torch.as_tensor(hist["loss"], dtype=torch.float32).to(device))
            prev_wall = float(hist.get("wall_time_total", 0.0))
    ema_params = [p.detach() for p in ema.module.parameters()]
    live_params = [p.detach() for p in model.parameters()]  # pairs with ema_params
    fwd = torch.compile(model) if cfg.compile else model
    alpha_bars = schedule.alpha_bars.to(device=device, dtype=data_dev.dtype)  # ᾱ in float64, then rounded
    n_data, batch, clip = data_dev.shape[0], cfg.batch_size, cfg.grad_clip
    lr_changes = cfg.lr_schedule != "constant" or cfg.warmup_steps > 0  # else the scheduler has nothing to do
    autocast = (torch.autocast(device_type=device.type, dtype=torch.bfloat16) if amp == "bf16"
                else contextlib.nullcontext())

    def save(step: int, path: str | Path) -> Path:
        from .checkpoints import save_checkpoint

        hist = {"loss": torch.stack(losses).float().cpu() if losses else torch.zeros(0),
                "wall_time_total": prev_wall + train_seconds}
        return save_checkpoint(path, model, ema, opt, step, cfg, {"data": g.get_state()}, hist, schedule,
                               checkpoint_extra, scheduler=sched)

    bar = progress_bar(total=cfg.steps, desc="train", enabled=cfg.progress, unit="step")
    bar.update(start)
    step = start
    train_seconds = 0.0
    interrupted = stopped_early = False
    t0 = time.perf_counter()
    try:
        with StopFlag() as flag:
            while step < cfg.steps:
                if flag.stop:
                    interrupted = True
                    break
                idx = torch.randint(n_data, (batch,), generator=g)
                if device.type != "cpu":
                    idx = idx.to(device, non_blocking=True)
                with autocast:
                    loss = dsm_loss(fwd, data_dev[idx], schedule, g, alpha_bars=alpha_bars, check=False)
                loss.backward()
                if clip is not None:
                    torch.nn.utils.clip_grad_norm_(params, clip, foreach=True)
                opt.step()
                if lr_changes:
                    sched.step()
                opt.zero_grad(set_to_none=True)
                ema_update(ema, ema_params, live_params)
                losses.append(loss.detach())
                step += 1
                if step % cfg.log_every == 0 or step == cfg.steps:
                    k = min(cfg.log_every, step - start)
                    recent = float(torch.stack(losses[-k:]).mean())  # one host sync per log interval
                    if not math.isfinite(recent):
                        raise FloatingPointError(f"the training loss became {recent} at step {step}; "
                                                 f"lower the learning rate (lr={cfg.lr})")
                    bar.update(step - bar.n)
                    bar.set_postfix(loss=f"{recent:.4f}", refresh=False)
                if checkpoint is not None and cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                    train_seconds += time.perf_counter() - t0
                    save(step, checkpoint)
                    t0 = time.perf_counter()
                if callback is not None and step % callback_every == 0:
                    train_seconds += time.perf_counter() - t0
                    model.eval()
                    stop = callback(TrainState(step=step, model=model, ema_model=ema.module, losses=losses,
                                               train_seconds=train_seconds))
                    model.train()
                    t0 = time.perf_counter()
                    if stop:
                        stopped_early = True
                        break
    except KeyboardInterrupt:  # a second Ctrl-C, or one outside the main thread
        interrupted = True
    finally:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        train_seconds += time.perf_counter() - t0
        bar.update(step - bar.n)
        bar.close()
    model.eval()
    saved = save(step, checkpoint) if checkpoint is not None else None
    if interrupted:
        exc = KeyboardInterrupt(f"training interrupted at step {step}"
                                + (f"; checkpoint saved to {saved}" if saved else ""))
        exc.step = step  # type: ignore[attr-defined]
        exc.checkpoint = saved  # type: ignore[attr-defined]
        raise exc
    done = step - start
    history = {"loss": torch.stack(losses).float().cpu().tolist() if losses else [], "wall_time": train_seconds,
               "wall_time_total": prev_wall + train_seconds,
               "steps_per_second": done / train_seconds if train_seconds > 0 else float("nan"),
               "start_step": start, "step": step, "stopped_early": stopped_early}
    return TrainResult(model=model, ema_model=ema.module, history=history, step=step, optimizer=opt, generator=g,
                       config=cfg, device=device, interrupted=False, checkpoint=saved)

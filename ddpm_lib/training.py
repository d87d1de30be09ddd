"""Training an ε-predictor with the denoising score matching (DSM) loss, fast and reproducibly.

The loss (ε-prediction, Ho et al. 2020): draw ``x_0`` from the data, a step ``i`` uniform in
``1..n`` and ``ε ~ N(0, I)``, form ``x_i = √ᾱ_i x_0 + √(1−ᾱ_i) ε`` and average
``‖ε_θ(x_i, i) − ε‖²`` over the batch *and the coordinates*. Its minimiser is the exact
``ε*(x_i, i) = −√(1−ᾱ_i) ∇ log p_i(x_i)``; what is left at the optimum is the
:func:`ddpm_lib.evaluation.irreducible_loss`.

:func:`train` is the library's loop: AdamW (fused where the device supports it), gradient
clipping, an exponential moving average (EMA) of the weights for sampling, a CPU
``torch.Generator`` for every random draw (minibatch indices, steps, noise) so that a seed
gives the same minibatches on every device, bf16 autocast on CUDA, optional ``torch.compile``,
checkpoints and bit-identical resume. It avoids per-step host syncs (losses are read back
only every ``log_every`` steps) and per-step Python work.
"""
from __future__ import annotations

import copy
import math
import signal
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from .progress import progress_bar
from .devices import resolve_device
from .schedules import Schedule
from .validation import as_tensor, check_finite, check_positive_float, check_positive_int

__all__ = ["TrainConfig", "TrainResult", "train", "dsm_loss"]


# -- the loss -----------------------------------------------------------------------
def _coef_shape(x: torch.Tensor) -> tuple[int, ...]:
    return (x.shape[0],) + (1,) * (x.dim() - 1)


def dsm_loss(model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x0: torch.Tensor, schedule: Schedule,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """DSM loss (scalar): ``mean ‖ε_θ(x_i, i) − ε‖²`` over batch and coordinates; ``x0`` ``(batch, ...)``, ``i ~ U{1..n}``.

    Random draws use ``generator`` on its own device (CPU by default) and are moved to ``x0``'s device.
    """
    x0 = check_finite(as_tensor(x0, "x0"), "x0")
    if x0.dim() < 1 or x0.shape[0] < 1:
        raise ValueError(f"x0 must have shape (batch, ...) with batch >= 1, got {tuple(x0.shape)}")
    gdev = generator.device if generator is not None else torch.device("cpu")
    i = torch.randint(1, schedule.n + 1, (x0.shape[0],), generator=generator, device=gdev).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=gdev).to(x0.device)
    ab = schedule.alpha_bars.to(device=x0.device, dtype=torch.float64)[i]
    a = ab.sqrt().to(x0.dtype).reshape(_coef_shape(x0))
    s = (1 - ab).sqrt().to(x0.dtype).reshape(_coef_shape(x0))
    pred = model(a * x0 + s * noise, i)
    return F.mse_loss(pred.to(noise.dtype), noise)


# -- configuration -------------------------------------------------------------------
@dataclass
class TrainConfig:
    """Settings of :func:`train`; ``steps`` is the *total* number of optimizer steps (resume included)."""

    steps: int = 5000
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    ema_decay: float = 0.995
    ema_warmup: bool = True          # decay_k = min(ema_decay, (1 + k) / (10 + k))
    lr_schedule: str = "constant"    # "constant" or "cosine" (to lr_min_ratio·lr at `steps`)
    lr_min_ratio: float = 0.1
    warmup_steps: int = 0
    seed: int = 0
    device: str = "auto"             # "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:k", "mps"
    compile: bool = False
    amp: str = "auto"                # "auto" (bf16 on CUDA), "bf16", "off"
    progress: bool = True
    log_every: int = 100
    checkpoint_every: int | None = None

    def validate(self) -> "TrainConfig":
        """Check every field; raise ``ValueError``/``TypeError`` naming the bad one. Returns ``self``."""
        check_positive_int(self.steps, "steps")
        check_positive_int(self.batch_size, "batch_size")
        check_positive_float(self.lr, "lr")
        check_positive_float(self.weight_decay, "weight_decay", allow_zero=True)
        if self.grad_clip is not None:
            check_positive_float(self.grad_clip, "grad_clip")
        d = check_positive_float(self.ema_decay, "ema_decay", allow_zero=True)
        if d >= 1:
            raise ValueError(f"ema_decay must lie in [0, 1), got {d}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        r = check_positive_float(self.lr_min_ratio, "lr_min_ratio", allow_zero=True)
        if r > 1:
            raise ValueError(f"lr_min_ratio must lie in [0, 1], got {r}")
        check_positive_int(self.warmup_steps, "warmup_steps", minimum=0)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed must be an int, got {self.seed!r}")
        if self.amp not in ("auto", "bf16", "off"):
            raise ValueError(f"amp must be 'auto', 'bf16' or 'off', got {self.amp!r}")
        check_positive_int(self.log_every, "log_every")
        if self.checkpoint_every is not None:
            check_positive_int(self.checkpoint_every, "checkpoint_every")
        resolve_device(self.device)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The settings as a dict of plain values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """A config from :meth:`to_dict`'s output (unknown keys are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


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


# -- helpers -------------------------------------------------------------------------
def _check_data(model: nn.Module, data: Any, schedule: Schedule) -> torch.Tensor:
    """Validate ``data`` against ``model`` before any work (shape, finiteness, steps)."""
    if not isinstance(data, torch.Tensor):
        data = as_tensor(data, "data")
    if not data.is_floating_point():
        raise TypeError(f"data must be a floating point tensor, got dtype {data.dtype}")
    if data.dim() < 2 or data.shape[0] < 1:
        raise ValueError(f"data must have shape (N, ...) with N >= 1 points, got {tuple(data.shape)}")
    check_finite(data, "data")
    cls = type(model).__name__
    if hasattr(model, "dim") and cls == "EpsMLP":
        if data.dim() != 2 or data.shape[1] != model.dim:
            raise ValueError(f"data of shape {tuple(data.shape)} does not fit EpsMLP(dim={model.dim}): "
                             f"it needs (N, {model.dim})")
    if cls == "TinyUNet":
        want = (model.channels, model.image_size, model.image_size)
        if data.dim() != 4 or tuple(data.shape[1:]) != want:
            raise ValueError(f"data of shape {tuple(data.shape)} does not fit TinyUNet: it needs (N, {', '.join(map(str, want))})")
    n_model = getattr(model, "n_steps", None)
    if n_model is not None and n_model != schedule.n:
        raise ValueError(f"the model embeds steps 1..{n_model} but the schedule has n={schedule.n} steps; "
                         f"build the model with n_steps={schedule.n}")
    return data


def _lr_at(step: int, cfg: TrainConfig) -> float:
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.lr_schedule == "constant":
        return cfg.lr
    span = max(1, cfg.steps - cfg.warmup_steps)
    u = min(1.0, (step - cfg.warmup_steps) / span)
    lo = cfg.lr * cfg.lr_min_ratio
    return lo + 0.5 * (cfg.lr - lo) * (1 + math.cos(math.pi * u))


def _make_optimizer(params: list[nn.Parameter], cfg: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    kw: dict[str, Any] = {"lr": cfg.lr, "weight_decay": cfg.weight_decay}
    if device.type in ("cpu", "cuda") and all(p.dtype in (torch.float32, torch.float64) for p in params):
        try:
            return torch.optim.AdamW(params, fused=True, **kw)
        except (RuntimeError, TypeError, ValueError):  # pragma: no cover - older torch
            pass
    return torch.optim.AdamW(params, foreach=True, **kw)


class _StopFlag:
    """Turns the first Ctrl-C into a request to stop at the next step boundary (a second one stops at once)."""

    def __init__(self) -> None:
        self.stop = False
        self._old: Any = None

    def __enter__(self) -> "_StopFlag":
        try:
            self._old = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: leave Ctrl-C alone
            self._old = None
        return self

    def _handler(self, signum: int, frame: Any) -> None:
        if self.stop:
            raise KeyboardInterrupt
        self.stop = True

    def __exit__(self, *exc: Any) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


# -- the loop ------------------------------------------------------------------------
def train(model: nn.Module, data: torch.Tensor, schedule: Schedule, config: TrainConfig | None = None,
          checkpoint: str | Path | None = None, resume_from: str | Path | None = None,
          callback: Callable[[TrainState], bool | None] | None = None, callback_every: int = 1000,
          checkpoint_extra: dict[str, Any] | None = None) -> TrainResult:
    """Train ``model`` (ε-prediction) on ``data`` ``(N, ...)`` until ``config.steps`` total steps.

    ``checkpoint``: path written every ``config.checkpoint_every`` steps, at the end and on Ctrl-C
    (after which ``KeyboardInterrupt`` is re-raised with the checkpoint saved).
    ``resume_from``: a checkpoint to continue from bit-identically. ``callback(state)`` runs every
    ``callback_every`` steps (its time is not counted); returning ``True`` stops training.
    """
    cfg = (config or TrainConfig())
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(cfg).__name__}")
    cfg.validate()
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a ddpm_lib Schedule, got {type(schedule).__name__}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    callback_every = check_positive_int(callback_every, "callback_every")
    data = _check_data(model, data, schedule)
    if resume_from is not None and not Path(resume_from).is_file():
        raise FileNotFoundError(f"cannot resume: no checkpoint at {resume_from}")
    device = resolve_device(cfg.device)
    amp = cfg.amp
    if amp == "auto":
        amp = "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "off"

    # -- set-up (every random draw of training comes from `g`, on the CPU) -------------
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    dtype = params[0].dtype
    data_dev = data.to(device=device, dtype=dtype).contiguous()
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = _make_optimizer(params, cfg, device)
    g = torch.Generator().manual_seed(cfg.seed)
    start = 0
    losses: list[torch.Tensor] = []
    prev_wall = 0.0
    if resume_from is not None:
        from .checkpoints import load_checkpoint

        ck = load_checkpoint(resume_from, model=model, ema_model=ema, optimizer=opt)
        start = ck.step
        rng = ck.rng_state
        if "data" not in rng:
            raise ValueError(f"{resume_from}: the checkpoint holds no data-generator state to resume from")
        g.set_state(rng["data"])
        if "torch" in rng:
            torch.set_rng_state(rng["torch"])
        if ck.history is not None and "loss" in ck.history:
            losses = [t for t in torch.as_tensor(ck.history["loss"], dtype=torch.float32).to(device)]
            prev_wall = float(ck.history.get("wall_time_total", 0.0))
        if start > cfg.steps:
            raise ValueError(f"{resume_from} is at step {start}, beyond config.steps={cfg.steps}")
    ema_params = [p.detach() for p in ema.parameters()]
    live_params = [p.detach() for p in params]
    fwd = torch.compile(model) if cfg.compile else model

    ab = schedule.alpha_bars.to(torch.float64)
    sqrt_ab = ab.sqrt().to(device=device, dtype=dtype)
    sqrt_1m = (1 - ab).sqrt().to(device=device, dtype=dtype)
    n_data, n_steps, batch = data_dev.shape[0], schedule.n, cfg.batch_size
    noise_shape = (batch,) + tuple(data_dev.shape[1:])
    cshape = (batch,) + (1,) * (data_dev.dim() - 1)
    on_cpu = device.type == "cpu"
    clip = cfg.grad_clip
    constant_lr = cfg.lr_schedule == "constant" and cfg.warmup_steps == 0
    autocast = (torch.autocast(device_type=device.type, dtype=torch.bfloat16) if amp == "bf16" else None)

    def save(step: int, path: str | Path) -> Path:
        from .checkpoints import save_checkpoint

        hist = {"loss": torch.stack(losses).float().cpu() if losses else torch.zeros(0),
                "wall_time_total": prev_wall + train_seconds}
        return save_checkpoint(path, model, ema, opt, step, cfg, {"data": g.get_state()}, hist, schedule,
                               checkpoint_extra)

    bar = progress_bar(total=cfg.steps, desc="train", enabled=cfg.progress, unit="step")
    bar.update(start)
    step = start
    train_seconds = 0.0
    interrupted = False
    stopped_early = False
    t0 = time.perf_counter()
    try:
        with _StopFlag() as flag:
            while step < cfg.steps:
                if flag.stop:
                    interrupted = True
                    break
                if not constant_lr:
                    lr = _lr_at(step, cfg)
                    for group in opt.param_groups:
                        group["lr"] = lr
                idx = torch.randint(n_data, (batch,), generator=g)
                i = torch.randint(1, n_steps + 1, (batch,), generator=g)
                noise = torch.randn(noise_shape, generator=g)
                if not on_cpu:
                    idx = idx.to(device, non_blocking=True)
                    i = i.to(device, non_blocking=True)
                    noise = noise.to(device, non_blocking=True)
                if noise.dtype != dtype:
                    noise = noise.to(dtype)
                x0 = data_dev[idx]
                xt = torch.addcmul(sqrt_ab[i].view(cshape) * x0, sqrt_1m[i].view(cshape), noise)
                if autocast is not None:
                    with autocast:
                        pred = fwd(xt, i)
                    loss = F.mse_loss(pred.float(), noise.float())
                else:
                    loss = F.mse_loss(fwd(xt, i), noise)
                loss.backward()
                if clip is not None:
                    torch.nn.utils.clip_grad_norm_(params, clip, foreach=True)
                opt.step()
                opt.zero_grad(set_to_none=True)
                decay = cfg.ema_decay
                if cfg.ema_warmup:
                    decay = min(decay, (1 + step) / (10 + step))
                torch._foreach_lerp_(ema_params, live_params, 1.0 - decay)
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
                    t_pause = time.perf_counter()
                    train_seconds += t_pause - t0
                    save(step, checkpoint)
                    t0 = time.perf_counter()
                if callback is not None and step % callback_every == 0:
                    t_pause = time.perf_counter()
                    train_seconds += t_pause - t0
                    state = TrainState(step=step, model=model, ema_model=ema, losses=losses,
                                       train_seconds=train_seconds)
                    model.eval()
                    stop = callback(state)
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
    saved = None
    if checkpoint is not None:
        saved = save(step, checkpoint)
    if interrupted:
        exc = KeyboardInterrupt(f"training interrupted at step {step}"
                                + (f"; checkpoint saved to {saved}" if saved else ""))
        exc.step = step  # type: ignore[attr-defined]
        exc.checkpoint = saved  # type: ignore[attr-defined]
        raise exc
    loss_list = torch.stack(losses).float().cpu().tolist() if losses else []
    done = step - start
    history = {"loss": loss_list, "wall_time": train_seconds, "wall_time_total": prev_wall + train_seconds,
               "steps_per_second": done / train_seconds if train_seconds > 0 else float("nan"),
               "start_step": start, "step": step, "stopped_early": stopped_early}
    return TrainResult(model=model, ema_model=ema, history=history, step=step, optimizer=opt, generator=g,
                       config=cfg, device=device, interrupted=False, checkpoint=saved)

"""What :func:`ddpm_lib.training.train` carries from step to step, built from torch's standard pieces,
and how it is restored from a checkpoint.

* the optimizer: ``torch.optim.AdamW`` (fused where the device supports it);
* the learning-rate curve: ``torch.optim.lr_scheduler.LambdaLR`` with :meth:`TrainConfig.lr_factor`;
* the EMA of the weights: ``torch.optim.swa_utils.AveragedModel`` updated by ``get_ema_multi_avg_fn``
  with the warm-up decay ``min(ema_decay, (1 + k)/(10 + k))`` at update ``k``. The EMA starts as a
  copy of the initial weights, which counts as its first average (``n_averaged = 1``).
"""
from __future__ import annotations

import signal
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import LambdaLR
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from .training_config import TrainConfig

__all__ = ["make_optimizer", "make_scheduler", "make_ema", "ema_update", "restore", "StopFlag"]

ParamList = list[torch.Tensor]


def make_optimizer(params: list[nn.Parameter], cfg: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """AdamW with ``cfg.lr`` and ``cfg.weight_decay``: fused on CPU/CUDA for float parameters, else foreach."""
    kw: dict[str, Any] = {"lr": cfg.lr, "weight_decay": cfg.weight_decay}
    if device.type in ("cpu", "cuda") and all(p.dtype in (torch.float32, torch.float64) for p in params):
        try:
            return torch.optim.AdamW(params, fused=True, **kw)
        except (RuntimeError, TypeError, ValueError):  # pragma: no cover - older torch
            pass
    return torch.optim.AdamW(params, foreach=True, **kw)


def make_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig) -> LambdaLR:
    """``LambdaLR`` giving optimizer step ``k`` the learning rate ``cfg.lr · cfg.lr_factor(k)``."""
    return LambdaLR(opt, lambda k: cfg.lr_factor(k))  # a function: its state_dict stores no lambda state


def _ema_multi_avg_fn(decay: float, warmup: bool) -> Callable[[ParamList, ParamList, Any], None]:
    """An ``AveragedModel`` ``multi_avg_fn``: ``get_ema_multi_avg_fn`` with the decay of update
    ``k = n_averaged − 1`` (``min(decay, (1 + k)/(10 + k))`` with ``warmup``, else ``decay``)."""
    fixed = get_ema_multi_avg_fn(decay)
    if not warmup:
        return fixed

    def update(ema_params: ParamList, params: ParamList, n_averaged: Any) -> None:
        k = int(n_averaged) - 1
        d = min(decay, (1 + k) / (10 + k))
        (fixed if d == decay else get_ema_multi_avg_fn(d))(ema_params, params, n_averaged)

    return update


def make_ema(model: nn.Module, cfg: TrainConfig) -> AveragedModel:
    """The EMA of ``model``'s weights: an ``AveragedModel`` (on the model's device, ``n_averaged`` on the CPU)."""
    ema = AveragedModel(model, multi_avg_fn=_ema_multi_avg_fn(cfg.ema_decay, cfg.ema_warmup))
    ema.n_averaged.fill_(1)  # the initial copy is the first average: the first update already averages
    ema.module.eval().requires_grad_(False)
    return ema


def ema_update(ema: AveragedModel, ema_params: ParamList, params: ParamList) -> None:
    """One EMA update, as ``ema.update_parameters(model)`` does once ``n_averaged > 0``, on parameter lists
    made once (``update_parameters`` walks the module tree every call: ~10× the update for the small models)."""
    n_averaged = ema.n_averaged
    ema.multi_avg_fn(ema_params, params, n_averaged)
    n_averaged.add_(1)


def restore(path: str | Path, cfg: TrainConfig, model: nn.Module, ema: AveragedModel, opt: torch.optim.Optimizer,
            sched: LambdaLR) -> tuple[int, dict[str, Any], dict[str, Any] | None]:
    """Load checkpoint ``path`` into the training state, after checking that it can be resumed with
    ``cfg`` and ``model``; nothing is changed when a check fails (``ValueError`` naming the file).

    Returns ``(step, rng_state, history)``.
    """
    from .checkpoints import config_diff, load_checkpoint

    ck = load_checkpoint(path)
    extra = ck.extra or {}
    if extra.get("sampling_only"):
        raise ValueError(f"cannot resume from {path}: it is a sampling-only export (EMA weights, no optimizer "
                         f"state); resume from the checkpoint it was exported from"
                         + (f" ({extra['exported_from']})" if extra.get("exported_from") else ""))
    got = dict(model.config()) if hasattr(model, "config") else {}
    if got != ck.model_config:
        raise ValueError(f"cannot resume from {path}: it was made for a different model — "
                         f"{config_diff(ck.model_config, got, 'now')}")
    if ck.step > cfg.steps:
        raise ValueError(f"cannot resume from {path}: it is at step {ck.step}, beyond steps={cfg.steps} "
                         f"(steps counts every step, the resumed ones included)")
    diffs = cfg.resume_mismatches(ck.train_config)
    if diffs:
        raise ValueError(f"cannot resume from {path} with a different configuration: "
                         + "; ".join(f"{k}: {a!r} in the checkpoint vs {b!r} now" for k, a, b in diffs))
    missing = [k for k, v in (("optimizer", ck.optimizer_state), ("scheduler", ck.scheduler_state),
                              ("EMA", ck.ema_updates), ("data generator", ck.rng_state.get("data")))
               if v is None]
    if missing:
        raise ValueError(f"cannot resume from {path}: it holds no {', '.join(missing)} state (a checkpoint "
                         f"of format version 1 can be sampled from but not resumed)")
    try:
        opt.load_state_dict(ck.optimizer_state)
        sched.load_state_dict(ck.scheduler_state)
    except (ValueError, KeyError, RuntimeError) as exc:
        raise ValueError(f"{path}: the optimizer state does not fit this optimizer: {exc}") from exc
    model.load_state_dict(ck.model.state_dict())
    ema.module.load_state_dict(ck.ema_model.state_dict())
    ema.n_averaged.fill_(int(ck.ema_updates))
    return ck.step, ck.rng_state, ck.history


class StopFlag:
    """Turns the first Ctrl-C into a request to stop at the next step boundary (a second one stops at once)."""

    def __init__(self) -> None:
        self.stop = False
        self._old: Any = None

    def __enter__(self) -> "StopFlag":
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

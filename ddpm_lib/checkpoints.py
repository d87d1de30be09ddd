"""Checkpoints you can trust: atomic writes, safe loads, clear errors, bit-identical resume.

A checkpoint is a dict of tensors / dicts / lists / primitives only (so it loads with
``torch.load(..., weights_only=True)``, which cannot run code from the file):

``format`` (``"ddpm_lib.checkpoint"``), ``version``, ``model_config``, ``model`` and ``ema``
(state dicts), ``optimizer`` (state dict), ``step``, ``train_config``, ``rng`` (the data
generator's state and torch's, as uint8 tensors), ``history`` (per-step losses), and optionally
``schedule`` (the betas ``β_1..β_n``) and ``extra`` (e.g. the data set's name).

Writes go to a temporary file in the same folder, are flushed and fsync'ed, then moved into
place with ``os.replace`` — a crash never leaves a half-written ``checkpoint.pt``.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from .models import build_model

__all__ = ["save_checkpoint", "load_checkpoint", "export_for_sampling", "Checkpoint", "FORMAT", "VERSION"]

FORMAT = "ddpm_lib.checkpoint"
VERSION = 1
_REQUIRED = ("model_config", "model", "ema", "step", "rng")


def _cpu(obj: Any) -> Any:
    """A copy of ``obj`` with every tensor detached and on the CPU (dicts, lists, tuples recursed)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu(v) for v in obj)
    return obj


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj)`` to ``path`` atomically: temp file in the same folder, fsync, ``os.replace``."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    return path


def save_checkpoint(path: str | os.PathLike, model: nn.Module, ema_model: nn.Module | None,
                    optimizer: torch.optim.Optimizer | None, step: int, config: Any = None,
                    rng_state: dict[str, Any] | None = None, history: dict[str, Any] | None = None,
                    schedule: Any = None, extra: dict[str, Any] | None = None) -> Path:
    """Write a checkpoint atomically to ``path`` and return the path.

    ``config``: the ``TrainConfig`` (or a dict); ``rng_state``: ``{"data": generator.get_state(), ...}``
    (torch's own RNG state is added); ``history``: ``{"loss": (step,) tensor, ...}``;
    ``schedule``: a :class:`~ddpm_lib.schedules.Schedule` (its betas are stored).
    """
    if not hasattr(model, "config"):
        raise TypeError("save_checkpoint needs a ddpm_lib model with a config() method (EpsMLP, TinyUNet)")
    from dataclasses import asdict, is_dataclass

    if is_dataclass(config) and not isinstance(config, type):
        config = asdict(config)
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = list(torch.cuda.get_rng_state_all())
    if rng_state:
        rng.update(rng_state)
    obj = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": dict(model.config()),
        "model": _cpu(model.state_dict()),
        "ema": _cpu((ema_model if ema_model is not None else model).state_dict()),
        "optimizer": _cpu(optimizer.state_dict()) if optimizer is not None else None,
        "step": int(step),
        "train_config": dict(config) if config is not None else None,
        "rng": _cpu(rng),
        "history": _cpu(history) if history is not None else None,
        "schedule": _cpu(schedule.betas[1:]) if schedule is not None else None,
        "extra": _cpu(extra) if extra is not None else None,
    }
    return atomic_torch_save(obj, path)


@dataclass
class Checkpoint:
    """A loaded checkpoint: models rebuilt (or filled in), plus everything needed to resume."""

    path: Path
    model: nn.Module
    ema_model: nn.Module
    step: int
    model_config: dict[str, Any]
    train_config: dict[str, Any] | None
    optimizer_state: dict[str, Any] | None
    rng_state: dict[str, Any]
    history: dict[str, Any] | None
    schedule_betas: torch.Tensor | None = None
    extra: dict[str, Any] | None = field(default=None)

    def schedule(self):
        """The stored :class:`~ddpm_lib.schedules.Schedule` (None when the checkpoint has none)."""
        from .schedules import Schedule

        return None if self.schedule_betas is None else Schedule(self.schedule_betas)


def _describe(obj: Any) -> str:
    if isinstance(obj, torch.Tensor):
        return f"a bare tensor of shape {tuple(obj.shape)}"
    if isinstance(obj, dict):
        keys = list(obj)[:6]
        return f"a dict with keys {keys}{' …' if len(obj) > 6 else ''}"
    return f"an object of type {type(obj).__name__}"


def _config_diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    keys = sorted(set(a) | set(b))
    return ", ".join(f"{k}: {a.get(k)!r} in the file vs {b.get(k)!r} in the model" for k in keys if a.get(k) != b.get(k))


def _load_state(module: nn.Module, state: Any, path: Path, what: str) -> None:
    if not isinstance(state, dict):
        raise ValueError(f"{path}: the {what} weights are {_describe(state)}, not a state dict")
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ValueError(f"{path}: the {what} weights do not fit the model (architecture mismatch): "
                         f"{' '.join(s.strip() for s in first[:4])}") from exc


def load_checkpoint(path: str | os.PathLike, model: nn.Module | None = None, ema_model: nn.Module | None = None,
                    optimizer: torch.optim.Optimizer | None = None,
                    map_location: str | torch.device = "cpu") -> Checkpoint:
    """Load and validate a checkpoint; fill ``model``/``ema_model``/``optimizer`` if given, else rebuild them.

    Raises ``FileNotFoundError`` if ``path`` is missing and ``ValueError`` naming the file if it is
    truncated, not a ddpm_lib checkpoint, of an unknown version, or made for another architecture.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated zip, random bytes, pickled code refused by weights_only …
        raise ValueError(f"{path}: cannot be read as a checkpoint — the file is truncated, corrupt or not a "
                         f"torch file ({type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''})"
                         ) from exc
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ValueError(f"{path}: not a ddpm_lib checkpoint (no format marker {FORMAT!r}); it holds {_describe(obj)}")
    version = obj.get("version")
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise ValueError(f"{path}: checkpoint format version {version!r} is not supported (this ddpm_lib reads "
                         f"versions 1..{VERSION})")
    missing = [k for k in _REQUIRED if k not in obj]
    if missing:
        raise ValueError(f"{path}: incomplete checkpoint, missing {missing}")
    cfg = obj["model_config"]
    if not isinstance(cfg, dict):
        raise ValueError(f"{path}: the model config is {_describe(cfg)}, not a dict")
    if model is None:
        model = build_model(cfg)
    elif not hasattr(model, "config") or dict(model.config()) != cfg:
        got = dict(model.config()) if hasattr(model, "config") else {}
        raise ValueError(f"{path}: the checkpoint was made for a different architecture — {_config_diff(cfg, got)}")
    if ema_model is None:
        ema_model = build_model(cfg)
    elif dict(ema_model.config()) != cfg:
        raise ValueError(f"{path}: the EMA model passed in does not match the checkpoint's architecture — "
                         f"{_config_diff(cfg, dict(ema_model.config()))}")
    _load_state(model, obj["model"], path, "model")
    # a sampling export (export_for_sampling) stores the EMA weights once, as "model"
    _load_state(ema_model, obj["ema"] if obj["ema"] is not None else obj["model"], path, "EMA")
    if optimizer is not None:
        if obj.get("optimizer") is None:
            raise ValueError(f"{path}: the checkpoint holds no optimizer state to resume from")
        try:
            optimizer.load_state_dict(obj["optimizer"])
        except (ValueError, KeyError, RuntimeError) as exc:
            raise ValueError(f"{path}: the optimizer state does not fit this optimizer: {exc}") from exc
    step = obj["step"]
    if not isinstance(step, int) or step < 0:
        raise ValueError(f"{path}: invalid step {step!r}")
    return Checkpoint(path=path, model=model, ema_model=ema_model, step=step, model_config=cfg,
                      train_config=obj.get("train_config"), optimizer_state=obj.get("optimizer"),
                      rng_state=obj["rng"], history=obj.get("history"), schedule_betas=obj.get("schedule"),
                      extra=obj.get("extra"))


def export_for_sampling(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Write a small checkpoint with only what sampling needs: the EMA weights, the model config,
    the schedule, the step and the loss history (no raw weights, optimizer or RNG state).

    The export loads with :func:`load_checkpoint` like any checkpoint (its ``model`` and
    ``ema_model`` both hold the EMA weights); resuming training from it raises a clear error.
    For the book's 8×8 digit U-Net it is about a quarter of the full checkpoint.
    """
    ck = load_checkpoint(src)
    obj = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": ck.model_config,
        "model": _cpu(ck.ema_model.state_dict()),
        "ema": None,
        "optimizer": None,
        "step": ck.step,
        "train_config": ck.train_config,
        "rng": {},
        "history": ck.history,
        "schedule": ck.schedule_betas,
        "extra": {**(ck.extra or {}), "exported_from": str(Path(src).name), "sampling_only": True},
    }
    return atomic_torch_save(obj, dst)

"""Checkpoints you can trust: atomic writes, safe loads, clear errors, bit-identical resume.

A checkpoint is a dict of tensors / dicts / lists / primitives only (so it loads with
``torch.load(..., weights_only=True)``, which cannot run code from the file):

``format`` (``"ddpm_lib.checkpoint"``), ``version``, ``model_config``, ``model`` and ``ema``
(state dicts), ``optimizer`` and ``scheduler`` (state dicts), ``ema_updates`` (the EMA's
``n_averaged``), ``step``, ``train_config``, ``rng`` (the data generator's state and torch's, as
uint8 tensors), ``history`` (per-step losses), and optionally ``schedule`` (the betas
``β_1..β_n``) and ``extra`` (e.g. the data set's name). Version 1 (no ``scheduler``,
``ema_updates``) still loads, for sampling.

Writes go to a temporary file ``.<name>.<pid>.<random>.partial`` in the same folder, are flushed
and fsync'ed, then moved into place with ``os.replace`` — a crash never leaves a half-written
``checkpoint.pt``. A temporary file left by a killed process (its pid no longer runs) is removed
by the next save to the same path.
"""
from __future__ import annotations

import glob
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from .models import build_model

__all__ = ["save_checkpoint", "load_checkpoint", "export_for_sampling", "Checkpoint", "config_diff",
           "remove_stale_partials", "FORMAT", "VERSION"]

FORMAT = "ddpm_lib.checkpoint"
VERSION = 2
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


_PARTIAL = ".partial"


def _pid_runs(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except PermissionError:  # it exists, owned by another user
        return True
    except (ProcessLookupError, OverflowError):
        return False
    return True


def remove_stale_partials(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files ``.<name>.<pid>.<random>.partial`` of saves to ``path`` whose process
    no longer runs (a save killed mid-write); returns the removed paths."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*{_PARTIAL}"):
        pid = tmp.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_runs(int(pid)):
            try:
                tmp.unlink()
                removed.append(tmp)
            except FileNotFoundError:
                pass
    return removed


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj)`` to ``path`` atomically: temp file in the same folder, fsync, ``os.replace``;
    stale temporary files of earlier, killed saves to ``path`` are removed first."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot write {path}: cannot create the folder {folder} ({exc.strerror or exc})") from exc
    if path.is_dir():
        raise ValueError(f"cannot write a checkpoint to {path}: it is a folder")
    remove_stale_partials(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=_PARTIAL, dir=folder)
    except OSError as exc:
        raise OSError(f"cannot write {path} in {folder} ({exc.strerror or exc})") from exc
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
                    schedule: Any = None, extra: dict[str, Any] | None = None,
                    scheduler: Any = None) -> Path:
    """Write a checkpoint atomically to ``path`` and return the path.

    ``ema_model``: the EMA model, or its ``torch.optim.swa_utils.AveragedModel`` (whose ``n_averaged``
    is stored too); ``config``: the ``TrainConfig`` (or a dict); ``rng_state``:
    ``{"data": generator.get_state(), ...}`` (torch's own RNG state is added); ``history``:
    ``{"loss": (step,) tensor, ...}``; ``schedule``: a :class:`~ddpm_lib.schedules.Schedule` (its betas
    are stored); ``scheduler``: the learning-rate scheduler.
    """
    if not hasattr(model, "config"):
        raise TypeError("save_checkpoint needs a ddpm_lib model with a config() method (EpsMLP, TinyUNet)")
    from dataclasses import asdict, is_dataclass

    from torch.optim.swa_utils import AveragedModel

    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step must be an int >= 0, got {step!r}")
    if is_dataclass(config) and not isinstance(config, type):
        config = asdict(config)
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"config must be a TrainConfig or a dict, got {type(config).__name__}")
    ema_updates = None
    if isinstance(ema_model, AveragedModel):
        ema_updates = int(ema_model.n_averaged)
        ema_model = ema_model.module
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
        "scheduler": _cpu(scheduler.state_dict()) if scheduler is not None else None,
        "ema_updates": ema_updates,
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
    scheduler_state: dict[str, Any] | None = None
    ema_updates: int | None = None

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


def config_diff(saved: dict[str, Any], other: dict[str, Any], where: str = "in the model") -> str:
    """``"key: saved in the file vs other <where>"`` for every key in which two model configs differ."""
    keys = sorted(set(saved) | set(other))
    return ", ".join(f"{k}: {saved.get(k)!r} in the file vs {other.get(k)!r} {where}"
                     for k in keys if saved.get(k) != other.get(k))


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
        raise ValueError(f"{path}: the checkpoint was made for a different architecture — {config_diff(cfg, got)}")
    if ema_model is None:
        ema_model = build_model(cfg)
    elif dict(ema_model.config()) != cfg:
        raise ValueError(f"{path}: the EMA model passed in does not match the checkpoint's architecture — "
                         f"{config_diff(cfg, dict(ema_model.config()))}")
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
                      extra=obj.get("extra"), scheduler_state=obj.get("scheduler"),
                      ema_updates=obj.get("ema_updates"))


def export_for_sampling(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Write a small checkpoint with only what sampling needs: the EMA weights, the model config,
    the schedule, the step and the loss history (no raw weights, optimizer or RNG state).

    The export loads with :func:`load_checkpoint` like any checkpoint (its ``model`` and
    ``ema_model`` both hold the EMA weights); resuming training from it raises a clear error.
    For the book's 8×8 digit U-Net it is about a quarter of the full checkpoint.
    """
    if Path(dst).resolve() == Path(src).resolve():
        raise ValueError(f"cannot export {src} onto itself: give the export another path")
    ck = load_checkpoint(src)
    obj = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": ck.model_config,
        "model": _cpu(ck.ema_model.state_dict()),
        "ema": None,
        "optimizer": None,
        "scheduler": None,
        "ema_updates": None,
        "step": ck.step,
        "train_config": ck.train_config,
        "rng": {},
        "history": ck.history,
        "schedule": ck.schedule_betas,
        "extra": {**(ck.extra or {}), "exported_from": str(Path(src).name), "sampling_only": True},
    }
    return atomic_torch_save(obj, dst)

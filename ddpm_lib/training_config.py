"""The settings of :func:`ddpm_lib.training.train`: :class:`TrainConfig`, its checks and its learning-rate curve.

Adding a setting: add a field with its default and a check in :meth:`TrainConfig.validate`. A field
that only says *how* a run executes (device, logging, …) and may change when a run is resumed is
declared with :func:`_run_only`; every other field defines the training and must be the same when
a checkpoint is resumed (:meth:`TrainConfig.resume_mismatches`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .devices import resolve_device
from .validation import check_positive_float, check_positive_int

__all__ = ["TrainConfig"]


def _run_only(default: Any) -> Any:
    """A field that may differ between a run and its resumption (it does not change the trained weights)."""
    return field(default=default, metadata={"run_only": True})


@dataclass
class TrainConfig:
    """Settings of :func:`~ddpm_lib.training.train`; ``steps`` is the *total* number of optimizer steps (resume included)."""

    steps: int = _run_only(5000)     # compared on resume only when the learning rate depends on it
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    ema_decay: float = 0.995
    ema_warmup: bool = True          # decay_k = min(ema_decay, (1 + k) / (10 + k)) at update k = 0, 1, …
    # "constant" or "cosine" (to lr_min_ratio·lr at `steps`). Constant by default: a run can then be extended,
    # and over short runs at batch 256 it trained better (5,000 steps: ancestral SWD on moons 0.025 against
    # 0.030 for a cosine to 0; the score-matching chapter's ring model, 0.9 % above the loss floor, missed its
    # 3 % target with the cosine).
    # For 30-60 CPU-s at batch 1024 the cosine to 0 is better (benchmarks/train_2d.py).
    lr_schedule: str = "constant"
    lr_min_ratio: float = 0.1
    warmup_steps: int = 0            # linear learning-rate warm-up over the first steps
    seed: int = 0
    device: str = _run_only("auto")  # "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:k", "mps"
    compile: bool = _run_only(False)
    amp: str = _run_only("auto")     # "auto" (bf16 on CUDA), "bf16", "off"
    progress: bool = _run_only(True)
    log_every: int = _run_only(100)
    checkpoint_every: int | None = _run_only(None)

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
        for name in ("ema_warmup", "compile", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        r = check_positive_float(self.lr_min_ratio, "lr_min_ratio", allow_zero=True)
        if r > 1:
            raise ValueError(f"lr_min_ratio must lie in [0, 1], got {r}")
        check_positive_int(self.warmup_steps, "warmup_steps", minimum=0)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed must be an int, got {self.seed!r}")
        if not 0 <= self.seed < 2 ** 63:
            raise ValueError(f"seed must lie in [0, 2**63), got {self.seed}")
        if self.amp not in ("auto", "bf16", "off"):
            raise ValueError(f"amp must be 'auto', 'bf16' or 'off', got {self.amp!r}")
        check_positive_int(self.log_every, "log_every")
        if self.checkpoint_every is not None:
            check_positive_int(self.checkpoint_every, "checkpoint_every")
        resolve_device(self.device)
        return self

    def lr_factor(self, step: int) -> float:
        """The learning rate of optimizer step ``step`` (0-based) divided by ``lr``: linear warm-up, then
        constant or a cosine from 1 to ``lr_min_ratio`` at ``steps`` (the ``lr_lambda`` of ``LambdaLR``)."""
        if self.warmup_steps and step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if self.lr_schedule == "constant":
            return 1.0
        u = min(1.0, (step - self.warmup_steps) / max(1, self.steps - self.warmup_steps))
        return self.lr_min_ratio + 0.5 * (1 - self.lr_min_ratio) * (1 + math.cos(math.pi * u))

    def resume_mismatches(self, saved: dict[str, Any] | None) -> list[tuple[str, Any, Any]]:
        """``(name, saved value, value now)`` for each field in which this config differs from the ``saved``
        one of a checkpoint, run-only fields left out (``steps`` counts when the learning rate depends on it,
        ``lr_min_ratio`` only when it does too)."""
        if not saved:
            return []
        out = []
        for f in fields(self):
            if f.name not in saved:  # a field newer than the checkpoint
                continue
            if f.metadata.get("run_only") and not (f.name == "steps" and self.lr_schedule != "constant"):
                continue
            if f.name == "lr_min_ratio" and self.lr_schedule == saved.get("lr_schedule") == "constant":
                continue  # the cosine's end point: unused by a constant learning rate
            if saved[f.name] != getattr(self, f.name):
                out.append((f.name, saved[f.name], getattr(self, f.name)))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The settings as a dict of plain values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """A config from :meth:`to_dict`'s output (unknown keys are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

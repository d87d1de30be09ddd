"""Argument checks shared by the whole package: each raises a clear ``ValueError``/``TypeError``."""
from __future__ import annotations

import math
from typing import Any

import sympy
import torch


def as_tensor(x: Any, name: str, dtype: torch.dtype | None = None,
              device: torch.device | str | None = None) -> torch.Tensor:
    """Convert ``x`` to a tensor (floating point) or raise ``TypeError`` naming ``name``."""
    if isinstance(x, torch.Tensor):
        t = x
    else:
        try:
            # lists and arrays of Python floats are float64: never round them through float32
            t = torch.as_tensor(x, dtype=dtype or torch.float64) if not isinstance(x, bool) else torch.as_tensor(x)
        except Exception as exc:  # noqa: BLE001 - re-raised with a clear message
            raise TypeError(f"{name} must be a tensor or array-like of numbers, got {type(x).__name__}") from exc
    if t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name} must hold real numbers, got dtype {t.dtype}")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype() if dtype is None else dtype)
    if dtype is not None or device is not None:
        t = t.to(dtype=dtype or t.dtype, device=device or t.device)
    return t


def check_finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """Raise ``ValueError`` if ``x`` has a NaN or an infinity."""
    if not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name} must be finite, but {bad} of its {x.numel()} entries are NaN or infinite")
    return x


def check_time(t: Any, name: str = "t", allow_zero: bool = True) -> Any:
    """Check a diffusion time (number, tensor, or SymPy expression): finite and >= 0 (or > 0); returns ``t``.

    A SymPy symbol passes (its sign is unknown); a SymPy number is checked like a float.
    """
    if isinstance(t, bool):
        raise TypeError(f"{name} must be a number, got a bool")
    if isinstance(t, sympy.Basic):
        if not t.is_number:
            return t
        t_val = complex(t.evalf()) if t.is_finite is not False else float("nan")
        if t_val.imag != 0:
            raise ValueError(f"{name} must be a real time, got {t}")
        check_time(t_val.real, name, allow_zero)
        return t
    try:
        values = t if isinstance(t, torch.Tensor) else torch.as_tensor(t, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"{name} must be a number, a tensor or a SymPy expression, got {type(t).__name__}") from exc
    if not bool(torch.isfinite(values).all()):
        raise ValueError(f"{name} must be a finite time, got {t!r}")
    low = bool((values >= 0).all()) if allow_zero else bool((values > 0).all())
    if not low:
        allowed = "t >= 0" if allow_zero else "t > 0"
        raise ValueError(f"{name} must satisfy {allowed} (diffusion time runs forward from 0), got {t!r}")
    return t


def check_unit_interval(x: Any, name: str, low_open: bool = False) -> Any:
    """Check that ``x`` (number, tensor or SymPy expression) lies in ``[0, 1]`` (``(0, 1]`` with ``low_open``); returns ``x``.

    A tensor on an accelerator passes unchecked (a check would make the host wait in the training loop).
    """
    if isinstance(x, torch.Tensor) and x.device.type != "cpu":
        return x
    if isinstance(x, bool):
        raise TypeError(f"{name} must be a number, got a bool")
    if isinstance(x, sympy.Basic):
        if not x.is_number:
            return x
        check_unit_interval(float(x.evalf()), name, low_open)
        return x
    try:
        values = x if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"{name} must be a number, a tensor or a SymPy expression, got {type(x).__name__}") from exc
    low = (values > 0) if low_open else (values >= 0)
    if not bool((torch.isfinite(values) & low & (values <= 1)).all()):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must lie in {interval}, got {x!r}")
    return x


def check_positive_int(n: Any, name: str, minimum: int = 1) -> int:
    """Check that ``n`` is an integer >= ``minimum`` and return it as ``int``."""
    if isinstance(n, bool) or not isinstance(n, (int,)) and not (isinstance(n, torch.Tensor) and n.numel() == 1
                                                                 and not n.is_floating_point()):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {n!r} ({type(n).__name__})")
    n = int(n)
    if n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n}")
    return n


def check_positive_float(x: Any, name: str, allow_zero: bool = False) -> float:
    """Check that ``x`` is a finite real number > 0 (or >= 0) and return it as ``float``."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) and not (isinstance(x, torch.Tensor) and x.numel() == 1):
        raise TypeError(f"{name} must be a real number, got {x!r} ({type(x).__name__})")
    x = float(x)
    ok = x >= 0 if allow_zero else x > 0
    if not math.isfinite(x) or not ok:
        allowed = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {allowed}, got {x}")
    return x


def check_same_shape(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")

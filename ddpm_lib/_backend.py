"""Elementary functions that work on SymPy expressions, torch tensors and plain numbers.

The library writes each formula once with these helpers, so that the notebooks can
feed the *same* function a SymPy symbol (exact check) or a tensor (numerics). A sign
flipped in the library then breaks both.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy
import torch


def _is_symbolic(x: Any) -> bool:
    return isinstance(x, sympy.Basic)


def exp(x: Any) -> Any:
    """``e**x`` for a SymPy expression, a tensor, an array or a number."""
    if _is_symbolic(x):
        return sympy.exp(x)
    if isinstance(x, torch.Tensor):
        return torch.exp(x)
    if isinstance(x, np.ndarray):
        return np.exp(x)
    return math.exp(x)


def sqrt(x: Any) -> Any:
    """Square root for a SymPy expression, a tensor, an array or a number."""
    if _is_symbolic(x):
        return sympy.sqrt(x)
    if isinstance(x, torch.Tensor):
        return torch.sqrt(x)
    if isinstance(x, np.ndarray):
        return np.sqrt(x)
    return math.sqrt(x)


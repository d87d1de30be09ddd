"""The command line's argument checks: a parser whose errors are one line, typed ranges, output folders."""
from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import Callable

__all__ = ["UsageError", "Parser", "int_arg", "float_arg", "out_folder", "SEED", "THREADS"]


class UsageError(Exception):
    """Bad input found by a subcommand: printed as ``error: …``, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line ``error: …`` (no usage block), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print ``error: message`` and exit with status 2."""
        self.exit(2, f"error: {message} (see --help)\n")


def int_arg(minimum: int = 1, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[minimum, maximum]``."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < minimum or (maximum is not None and v > maximum):
            rng = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
            raise argparse.ArgumentTypeError(f"must be an integer {rng}, got {v}")
        return v
    return parse


def float_arg(low: float = 0.0, low_open: bool = True, high: float = math.inf,
              high_open: bool = True) -> Callable[[str], float]:
    """An argparse ``type``: a finite number between ``low`` and ``high`` (each bound open or closed)."""
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        ok = math.isfinite(v) and (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
        if not ok:
            rng = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            raise argparse.ArgumentTypeError(f"must be a finite number in {rng}, got {text}")
        return v
    return parse


SEED = int_arg(0, 2 ** 62)
THREADS = int_arg(1, 4096)


def out_folder(path: str, what: str = "--out") -> Path:
    """Create the output folder now (not after training) or raise :class:`UsageError`."""
    if not path.strip():
        raise UsageError(f"{what} must name a folder, got an empty string")
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder {what} {out}: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write to the output folder {what} {out}")
    return out

"""One progress bar for every long loop of the package (tqdm, written to stderr).

In a notebook, :func:`ddpm_lib.notebook.setup` turns the bars off: the book showed their
stderr as stray boxes, and a stored output without them is the same on every run. In a
terminal ``configure(quiet_updates=True)`` draws a bar only when it starts and ends.
"""
from __future__ import annotations

from typing import Iterable, TypeVar

from tqdm.std import tqdm

T = TypeVar("T")

_settings = {"mininterval": 0.1, "disable": False}
_BAR_FORMAT = "{l_bar}{bar:24}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"


def configure(*, quiet_updates: bool | None = None, disable: bool | None = None) -> None:
    """``quiet_updates=True`` draws a bar only at its start and end; ``disable=True`` hides all bars."""
    if quiet_updates is not None:
        _settings["mininterval"] = float("inf") if quiet_updates else 0.1
    if disable is not None:
        _settings["disable"] = bool(disable)


def progress_bar(iterable: Iterable[T] | None = None, *, total: int | None = None, desc: str | None = None,
                 enabled: bool = True, unit: str = "it") -> tqdm:
    """A tqdm bar with the package's settings; ``enabled=False`` turns this one off."""
    # a bar of fixed width: its length must not depend on how long the rate text is
    return tqdm(iterable, total=total, desc=desc, unit=unit, mininterval=_settings["mininterval"],
                disable=_settings["disable"] or not enabled, ascii=True, bar_format=_BAR_FORMAT)

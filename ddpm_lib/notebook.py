"""Set-up shared by every notebook of the book: reproducible torch, plotting style, progress bars."""
from __future__ import annotations

import ctypes
import os
import sys
from functools import lru_cache, partial
from typing import Any

import numpy as np
import torch

from . import progress, verify

#: Figures are drawn at this many px per inch and stored pixel-doubled ("retina"), so the
#: PNG holds 2 × FIGURE_DPI = 200 dpi and displays at FIGURE_DPI CSS px per inch.
FIGURE_DPI = 100
#: The book's text column is 688 CSS px: a default figure fills it at scale 1.
FIGURE_SIZE = (6.8, 3.6)
#: 10 pt at 100 px/in is 13.9 CSS px; "small" legends 11.6 px. A figure wider than the
#: column is shrunk, so keep it under ~9 in (3 panels a row at most) to stay above 9 px.
FONT_PT = 10.0
#: PNG text key holding the smallest font (pt) a figure draws; the browser tests read it.
MIN_FONT_KEY = "ddpm:min-font-pt"


def smallest_font_pt(fig: Any) -> float | None:
    """The smallest size (pt) of any visible, non-empty text of a matplotlib figure."""
    from matplotlib.text import Text

    fig.draw_without_rendering()  # tick labels get their text when drawn
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes) if sizes else None


def _retina_png(fig: Any, **kwargs: Any):
    """IPython's pixel-doubled PNG, with the smallest font size stored in the file."""
    from IPython.core.pylabtools import retina_figure

    size = smallest_font_pt(fig)
    metadata = {MIN_FONT_KEY: f"{size:g}"} if size is not None else {}
    return retina_figure(fig, base64=True, metadata=metadata, **kwargs)


def _configure_matplotlib(shell: Any) -> None:
    try:
        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure
    except ImportError:  # plotting is optional for the library
        return
    plt.rcParams.update({"figure.dpi": FIGURE_DPI, "savefig.dpi": 2 * FIGURE_DPI, "figure.figsize": FIGURE_SIZE,
                         "font.size": FONT_PT, "axes.grid": True, "grid.alpha": 0.3,
                         "axes.spines.top": False, "axes.spines.right": False})
    if shell is not None:
        # inline figures at 200 dpi shown at 100 CSS px per inch (the 'retina' format)
        formatter = shell.display_formatter.formatters["image/png"]
        formatter.for_type(Figure, partial(_retina_png, bbox_inches="tight"))


def deterministic_algorithms() -> None:
    """``torch.use_deterministic_algorithms(True)`` without loading ``torch._inductor`` just for it.

    Since torch 2.x that call imports ``torch._inductor.config`` (and with it ``torch._dynamo``),
    about 1 CPU-s and 40 MB per kernel, only to set ``inductor.config.deterministic``. When
    inductor is not loaded yet, set the same flag through ``TORCHINDUCTOR_DETERMINISTIC=1``,
    which inductor reads when (and if) ``torch.compile`` first loads it.
    """
    if "torch._inductor.config" in sys.modules or not hasattr(torch._C, "_set_deterministic_algorithms"):
        torch.use_deterministic_algorithms(True)
        return
    os.environ["TORCHINDUCTOR_DETERMINISTIC"] = "1"
    torch._C._set_deterministic_algorithms(True, warn_only=False)


@lru_cache(maxsize=1)
def _glibc() -> Any:
    """The GNU C library (``ctypes``), or ``None`` where it is not the C library (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def trim_heap(*_: Any) -> bool:
    """Give the C heap's free pages back to the OS (glibc ``malloc_trim(0)``); ``True`` if some were released.

    Tensors freed by a cell leave free but resident pages in the heap, so a chapter's peak memory
    crept up cell by cell; :func:`setup` calls this after every cell of a notebook (it takes a few
    milliseconds, and cut the score-matching chapter's peak by about 25 MB). A no-op returning
    ``False`` without glibc. Accepts and ignores IPython's ``post_run_cell`` argument.
    """
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


def setup(chapter: str, seed: int = 0, threads: int = 1) -> torch.Generator:
    """Make the notebook reproducible and return a seeded CPU ``torch.Generator``.

    Sets one CPU thread (small models run fastest on one, see the README), deterministic
    algorithms, float64 as the default dtype for verification work, seeds numpy and torch,
    names the chapter for the verification ledger, and turns progress bars off in a
    notebook (they wrote to stderr, which the book showed as stray boxes). Figures are
    stored at 200 dpi and displayed at 100 CSS px per inch, with 10 pt text. In a notebook,
    :func:`trim_heap` runs after every cell.
    """
    torch.set_num_threads(threads)
    deterministic_algorithms()
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_default_dtype(torch.float64)
    verify.set_chapter(chapter)
    shell = None
    try:  # inline figures even when MPLBACKEND says otherwise (nbval compares their presence)
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and getattr(shell, "kernel", None) is not None:
            shell.run_line_magic("matplotlib", "inline")
        else:
            shell = None
    except ImportError:
        pass
    progress.configure(quiet_updates=True, disable=shell is not None)
    if shell is not None and trim_heap not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", trim_heap)
    _configure_matplotlib(shell)
    return torch.Generator().manual_seed(seed)

"""Set-up shared by every notebook of the book: reproducible torch, plotting style, progress bars."""
from __future__ import annotations

import numpy as np
import torch

from . import progress, verify


def setup(chapter: str, seed: int = 0, threads: int = 1) -> torch.Generator:
    """Make the notebook reproducible and return a seeded CPU ``torch.Generator``.

    Sets one CPU thread (small models run fastest on one, see the README), deterministic
    algorithms, float64 as the default dtype for verification work, seeds numpy and torch,
    names the chapter for the verification ledger, and makes progress bars draw only at
    their start and end so the stored outputs are stable.
    """
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_default_dtype(torch.float64)
    progress.configure(quiet_updates=True)
    verify.set_chapter(chapter)
    try:  # inline figures even when MPLBACKEND says otherwise (nbval compares their presence)
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and getattr(shell, "kernel", None) is not None:
            shell.run_line_magic("matplotlib", "inline")
    except ImportError:
        pass
    try:
        import matplotlib.pyplot as plt

        plt.rcParams.update({"figure.dpi": 90, "figure.figsize": (6.4, 3.6), "axes.grid": True,
                             "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False})
    except ImportError:  # plotting is optional for the library
        pass
    return torch.Generator().manual_seed(seed)

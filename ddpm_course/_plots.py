"""The figures the command line writes: the loss curve and the samples (points, images or a histogram)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_loss", "plot_samples"]


def plot_loss(losses: list[float], path: Path) -> None:
    """The per-step DSM loss (log scale) and its running mean, saved to ``path``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5), dpi=100)
    ax = fig.add_subplot()
    y = np.asarray(losses, dtype=float)
    ax.plot(np.arange(1, len(y) + 1), y, lw=0.5, alpha=0.4, label="per step")
    if len(y) >= 20:
        k = max(1, len(y) // 50)
        smooth = np.convolve(y, np.ones(k) / k, mode="valid")
        ax.plot(np.arange(k, len(y) + 1), smooth, lw=1.5, label=f"mean of {k}")
    ax.set_xlabel("step")
    ax.set_ylabel("DSM loss")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def plot_samples(x: Any, path: Path, data: Any = None) -> None:
    """Samples ``x``: a scatter plot for ``(n, 2)`` (over ``data`` in grey), an image grid for
    ``(n, 1, h, w)`` (at most 64), else a histogram of the first coordinate; saved to ``path``."""
    from matplotlib.figure import Figure

    x = np.asarray(x, dtype=float)
    if x.ndim == 2 and x.shape[1] == 2:
        fig = Figure(figsize=(4.5, 4.5), dpi=100)
        ax = fig.add_subplot()
        if data is not None:
            d = np.asarray(data, dtype=float)[: len(x)]
            ax.scatter(d[:, 0], d[:, 1], s=2, alpha=0.3, color="0.6", label="data")
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.6, label="samples")
        ax.set_aspect("equal")
        ax.legend(loc="upper right", markerscale=4)
    elif x.ndim == 4:
        k = min(len(x), 64)
        cols = int(np.ceil(np.sqrt(k)))
        rows = int(np.ceil(k / cols))
        h, w = x.shape[2], x.shape[3]
        grid = np.full((rows * (h + 1) + 1, cols * (w + 1) + 1), -1.0)
        for j in range(k):
            r, c = divmod(j, cols)
            grid[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = x[j, 0]
        fig = Figure(figsize=(4, 4 * rows / cols), dpi=100)
        ax = fig.add_subplot()
        ax.imshow(np.clip(grid, -1, 1), cmap="gray_r", vmin=-1, vmax=1, interpolation="nearest")
        ax.axis("off")
    else:
        fig = Figure(figsize=(5, 3.5), dpi=100)
        ax = fig.add_subplot()
        ax.hist(x.reshape(len(x), -1)[:, 0], bins=60)
    fig.tight_layout()
    fig.savefig(path)

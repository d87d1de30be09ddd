"""A sample-quality figure for 8×8 digits that needs no download: a small classifier judges the samples.

A small CNN (:class:`DigitsNet`, 2 conv layers → 64 penultimate features → 10 logits) is trained
in a few CPU-seconds, from a fixed seed, on a fixed split of scikit-learn's 1,797 digits
(scaled to ``[−1, 1]`` as :func:`ddpm_lib.data.make_dataset` does). :meth:`DigitsJudge.score`
then reports, for a set of images ``(n, 1, 8, 8)``:

* ``confident`` — the fraction the classifier labels with probability ≥ ``threshold`` (0.9);
* ``class_entropy`` — the entropy (nats) of the histogram of its labels (``log 10 ≈ 2.30`` when
  every class is equally frequent; 0 when all samples get one label: mode collapse);
* ``frechet`` — the Fréchet distance (:func:`ddpm_lib.metrics.frechet_distance`, the FID formula)
  between the Gaussian fitted to the samples' 64 penultimate features and the one fitted to the
  training split's features;
* ``accuracy`` — only when labels are given (real digits).

The **reference** is the score of the held-out real digits (the split the classifier never saw):
samples of a perfect model, scored at the same ``n``, would score about the same. The Fréchet
distance of a finite sample is biased upwards by about ``tr Σ / n``, so compare sets of equal size.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .data import make_dataset
from .metrics import frechet_distance
from .validation import as_tensor, check_finite

__all__ = ["DigitsNet", "DigitsJudge", "DigitsScore"]

N_HELD_OUT = 597  # 1,797 digits: 1,200 to train the classifier, 597 held out


class DigitsNet(nn.Module):
    """``(batch, 1, 8, 8)`` → logits ``(batch, 10)``; :meth:`features` gives the 64 penultimate features."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 4 * 4, 64)
        self.head = nn.Linear(64, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``(batch, 64)`` (after the ReLU)."""
        h = F.relu(self.conv1(x))
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return F.relu(self.fc(h.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@dataclass(frozen=True)
class DigitsScore:
    """The judge's figures for one set of ``n`` images (see the module docstring)."""

    n: int
    frechet: float
    confident: float
    class_entropy: float
    accuracy: float | None = None

    def line(self) -> str:
        """One printable line."""
        acc = "" if self.accuracy is None else f", accuracy {self.accuracy:.3f}"
        return (f"n={self.n}: Fréchet {self.frechet:7.3f}, confident (p >= 0.9) {self.confident:.3f}, "
                f"label entropy {self.class_entropy:.3f} nats{acc}")


def _check_images(x: torch.Tensor) -> torch.Tensor:
    x = check_finite(as_tensor(x, "images"), "images")
    if x.dim() != 4 or tuple(x.shape[1:]) != (1, 8, 8) or x.shape[0] < 2:
        raise ValueError(f"images must have shape (n, 1, 8, 8) with n >= 2, got {tuple(x.shape)}")
    return x.float()


class DigitsJudge:
    """A :class:`DigitsNet` trained on 1,200 of the digits (fixed seed) and the statistics it scores against.

    ``DigitsJudge(seed=0)`` trains in a few CPU-seconds (Adam, 25 epochs, batch 64). Attributes:
    ``net``, ``held_out`` ``(597, 1, 8, 8)``, ``held_out_labels``, ``reference`` (the held-out score).
    """

    def __init__(self, seed: int = 0, epochs: int = 25, threshold: float = 0.9) -> None:
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must lie in (0, 1), got {threshold}")
        from sklearn.datasets import load_digits

        self.threshold = float(threshold)
        x = make_dataset("digits", None, dtype=torch.float32)                # (1797, 1, 8, 8), [-1, 1]
        y = torch.as_tensor(load_digits().target, dtype=torch.long)
        perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
        tr, ho = perm[N_HELD_OUT:], perm[:N_HELD_OUT]
        self.held_out, self.held_out_labels = x[ho], y[ho]
        g = torch.Generator().manual_seed(seed + 1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.net = DigitsNet().float()  # float32 whatever the default dtype (notebooks use float64)
        opt = torch.optim.Adam(self.net.parameters(), lr=3e-3)
        xt, yt = x[tr], y[tr]
        self.net.train()
        for _ in range(epochs):
            for idx in torch.randperm(xt.shape[0], generator=g).split(64):
                loss = F.cross_entropy(self.net(xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        self.net.eval().requires_grad_(False)
        with torch.no_grad():
            f = self.net.features(xt).double()
        self._mu, self._cov = f.mean(0), torch.cov(f.T)
        self.reference = self.score(self.held_out, self.held_out_labels)

    @torch.no_grad()
    def score(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> DigitsScore:
        """Score ``images`` ``(n, 1, 8, 8)`` in ``[−1, 1]`` (values outside are clamped); ``labels`` ``(n,)`` optional."""
        x = _check_images(images).clamp(-1, 1)
        f = self.net.features(x)
        p = F.softmax(self.net.head(f), dim=1)
        conf, lab = p.max(1)
        hist = torch.bincount(lab, minlength=10).double() / x.shape[0]
        entropy = float(-(hist[hist > 0] * hist[hist > 0].log()).sum())
        f = f.double()
        fd = frechet_distance(f.mean(0), torch.cov(f.T), self._mu, self._cov)
        acc = None
        if labels is not None:
            labels = as_tensor(labels, "labels").long()
            if labels.shape != (x.shape[0],):
                raise ValueError(f"labels must have shape ({x.shape[0]},), got {tuple(labels.shape)}")
            acc = float((lab == labels).double().mean())
        return DigitsScore(n=x.shape[0], frechet=fd, confident=float((conf >= self.threshold).double().mean()),
                           class_entropy=entropy, accuracy=acc)


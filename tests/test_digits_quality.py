"""Tests of ddpm_lib.digits_quality (the classifier judge of 8×8 digits) and metrics.frechet_distance.

Every figure is deterministic (fixed seeds, one thread); the thresholds are set from what the
scores mean, not from a run: held-out real digits are classified well and score about the same
Fréchet distance as any other real subset; noise, and a set of one class only, score far worse.
"""
import math

import pytest
import torch

from ddpm_lib.data import make_dataset
from ddpm_lib.digits_quality import DigitsJudge, DigitsScore, N_HELD_OUT
from ddpm_lib.metrics import frechet_distance

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def judge():
    return DigitsJudge(seed=0)


def test_frechet_closed_forms():
    # 1-D: (m1 − m2)² + (s1 − s2)²
    fd = frechet_distance(torch.tensor([1.0]), torch.tensor([[4.0]]), torch.tensor([-2.0]), torch.tensor([[9.0]]))
    assert fd == pytest.approx(9.0 + 1.0, abs=1e-10)
    # commuting (diagonal) covariances: sum over coordinates of the 1-D formula
    c1 = torch.diag(torch.tensor([1.0, 4.0, 0.25], dtype=torch.float64))
    c2 = torch.diag(torch.tensor([9.0, 1.0, 0.25], dtype=torch.float64))
    assert frechet_distance(torch.zeros(3), c1, torch.ones(3), c2) == pytest.approx(3 + 4 + 1 + 0, abs=1e-10)
    # a rotated copy of a Gaussian has the same distance as the unrotated pair
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    fd_rot = frechet_distance(torch.zeros(3), q @ c1 @ q.T, q @ torch.ones(3, dtype=torch.float64), q @ c2 @ q.T)
    assert fd_rot == pytest.approx(8.0, abs=1e-9)
    a = torch.randn(5, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert frechet_distance(torch.zeros(5), a @ a.T, torch.zeros(5), a @ a.T) == pytest.approx(0.0, abs=1e-9)


def test_frechet_bad_input():
    with pytest.raises(ValueError, match="shape"):
        frechet_distance(torch.zeros(2), torch.eye(3), torch.zeros(2), torch.eye(2))
    with pytest.raises(ValueError):
        frechet_distance(torch.tensor([float("nan")]), torch.eye(1), torch.zeros(1), torch.eye(1))


def test_held_out_real_digits_are_the_reference(judge):
    ref = judge.reference
    assert isinstance(ref, DigitsScore) and ref.n == N_HELD_OUT
    assert ref.accuracy is not None and ref.accuracy >= 0.95      # a CNN on these digits gets ~98 %
    assert ref.confident >= 0.9
    assert ref.class_entropy > math.log(10) - 0.05                 # the ten classes are about balanced
    # another real subset of the same size (training digits) scores within a small factor of the reference
    other = judge.score(make_dataset("digits", None)[:N_HELD_OUT])
    assert other.frechet < 2 * ref.frechet + 1.0


def test_noise_and_mode_collapse_score_far_worse(judge):
    ref = judge.reference
    g = torch.Generator().manual_seed(3)
    noise = judge.score(torch.rand(N_HELD_OUT, 1, 8, 8, generator=g) * 2 - 1)
    gauss = judge.score(torch.randn(N_HELD_OUT, 1, 8, 8, generator=g))
    assert noise.frechet > 10 * ref.frechet and gauss.frechet > 10 * ref.frechet
    # only zeros (real digits, one class): confident but collapsed
    zeros = judge.held_out[judge.held_out_labels == 0]
    collapsed = judge.score(zeros)
    assert collapsed.class_entropy < 0.3 and collapsed.frechet > 5 * ref.frechet


def test_deterministic_and_bad_input(judge):
    again = DigitsJudge(seed=0)
    assert again.reference == judge.reference
    with pytest.raises(ValueError, match=r"\(n, 1, 8, 8\)"):
        judge.score(torch.zeros(10, 8, 8))
    with pytest.raises(ValueError, match="labels"):
        judge.score(judge.held_out[:5], torch.zeros(4))
    with pytest.raises(ValueError, match="threshold"):
        DigitsJudge(threshold=1.5)


def test_degradation_raises_the_frechet_distance_monotonically(judge):
    g = torch.Generator().manual_seed(4)
    z = torch.randn(judge.held_out.shape, generator=g)
    fds = [judge.score(judge.held_out + s * z).frechet for s in (0.0, 0.1, 0.2, 0.4)]
    assert fds == sorted(fds) and fds[-1] > 2 * fds[0]
    blurred = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(judge.held_out, (1, 1, 1, 1), mode="replicate"),
                                             3, stride=1)
    assert judge.score(blurred).frechet > 10 * judge.reference.frechet


def test_the_judge_works_under_a_float64_default_dtype():
    """Notebooks set float64 as the default dtype (ddpm_lib.notebook.setup); the judge must still train and score."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        judge = DigitsJudge(seed=0, epochs=1)
        s = judge.score(judge.held_out[:50].double())
    finally:
        torch.set_default_dtype(old)
    assert next(judge.net.parameters()).dtype == torch.float32 and 0 <= s.confident <= 1

"""Progress bars: fixed width, and drawn only at start and end in quiet mode (stable notebook output)."""
import re
import sys

from ddpm_lib import progress


def _run(n: int, quiet: bool) -> str:
    """Run a bar of n updates and return what it wrote to stderr."""
    import io

    progress.configure(quiet_updates=quiet)
    old, sys.stderr = sys.stderr, io.StringIO()
    try:
        bar = progress.progress_bar(total=n, desc="work")
        for _ in range(n):
            bar.update(1)
        bar.close()
        return sys.stderr.getvalue()
    finally:
        sys.stderr = old
        progress.configure(quiet_updates=False)


def test_quiet_bar_draws_start_and_end_only():
    out = _run(500, quiet=True)
    frames = [f for f in out.split("\r") if f.strip()]
    assert len(frames) <= 2 and "500/500" in frames[-1]


def test_bar_width_does_not_depend_on_rate_text():
    out = _run(10, quiet=True)
    last = [f for f in out.split("\r") if f.strip()][-1]
    masked = re.sub(r"\[[^\]]*\]", "[TIME]", last).strip()
    assert masked == "work: 100%|" + "#" * 24 + "| 10/10 [TIME]"


def test_disable():
    progress.configure(disable=True)
    try:
        assert _run(5, quiet=True) == ""
    finally:
        progress.configure(disable=False)

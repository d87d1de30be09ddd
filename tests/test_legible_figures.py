"""The build-time width below which a figure's labels would shrink under 9 px (_ext/legible_figures.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))
import legible_figures as lf  # noqa: E402


def test_legible_width_makes_the_smallest_label_nine_px():
    # a 1681 px wide PNG at 200 dpi with 9 pt text: a 9 pt label is 25 px in the file, so it
    # is 9 CSS px when the figure is shown 9/25 of its size: 605.16 → 606 px
    w = lf.legible_width(1681, 200.0, 9.0)
    assert w == 606
    label = lambda shown: 9.0 * 200 / 72 * shown / 1681  # noqa: E731
    assert label(w) >= 9.0 > label(w - 1)


def test_smaller_fonts_need_wider_figures():
    assert lf.legible_width(1681, 200.0, 8.0) > lf.legible_width(1681, 200.0, 10.0)


def test_png_legible_width_reads_dpi_and_font(tmp_path):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(lf.MIN_FONT_KEY, "10")
    Image.new("RGB", (1000, 400)).save(tmp_path / "f.png", dpi=(200, 200), pnginfo=info)
    assert lf.png_legible_width(tmp_path / "f.png") == 324  # 1000 · 9 · 72 / (10 · 200)
    Image.new("RGB", (1000, 400)).save(tmp_path / "g.png")  # no font recorded: nothing to enforce
    assert lf.png_legible_width(tmp_path / "g.png") is None


def test_the_font_key_is_the_notebooks():
    from ddpm_lib.notebook import MIN_FONT_KEY

    assert lf.MIN_FONT_KEY == MIN_FONT_KEY


@pytest.mark.parametrize("bad", [(0, 200.0, 9.0), (1000, 0.0, 9.0), (1000, 200.0, -1.0)])
def test_bad_sizes_are_refused(bad):
    with pytest.raises(ValueError, match="must be positive"):
        lf.legible_width(*bad)

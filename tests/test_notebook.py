"""ddpm_lib.notebook.setup: figures at 200 dpi with their smallest font stated, no progress bars in a kernel."""
import base64
import io

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ddpm_lib import notebook, progress  # noqa: E402


def test_smallest_font_counts_tick_and_legend_labels():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a")
    ax.legend(fontsize=7)
    ax.tick_params(labelsize=9)
    try:
        assert notebook.smallest_font_pt(fig) == pytest.approx(7)
        ax.get_legend().remove()
        assert notebook.smallest_font_pt(fig) == pytest.approx(9)
    finally:
        plt.close(fig)


def test_retina_png_is_200_dpi_and_states_its_smallest_font():
    from PIL import Image

    old = dict(plt.rcParams)
    try:
        notebook._configure_matplotlib(None)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        data, meta = notebook._retina_png(fig, bbox_inches="tight")
        plt.close(fig)
    finally:
        plt.rcParams.update(old)
    im = Image.open(io.BytesIO(base64.b64decode(data)))
    assert im.info["dpi"][0] == pytest.approx(2 * notebook.FIGURE_DPI, abs=0.01)
    assert float(im.info[notebook.MIN_FONT_KEY]) == pytest.approx(notebook.FONT_PT)
    assert meta["width"] == im.size[0] // 2        # shown at half its pixel width: 200 dpi as displayed
    # a 10 pt label at 100 CSS px per inch is 13.9 px, a "small" (8.33 pt) one 11.6 px: both >= 9
    assert 0.833 * notebook.FONT_PT * notebook.FIGURE_DPI / 72 >= 9


def test_setup_outside_a_kernel_keeps_progress_bars():
    import torch

    from ddpm_lib import verify

    state = (torch.get_default_dtype(), torch.are_deterministic_algorithms_enabled(), torch.get_num_threads(),
             verify._state["chapter"], dict(plt.rcParams))
    try:
        notebook.setup("test chapter")
        assert not progress._settings["disable"]
        assert plt.rcParams["savefig.dpi"] >= 150
    finally:
        progress.configure(quiet_updates=False, disable=False)
        torch.set_default_dtype(state[0])
        torch.use_deterministic_algorithms(state[1])
        torch.set_num_threads(state[2])
        verify.set_chapter(state[3])
        plt.rcParams.update(state[4])


def test_in_a_kernel_no_stderr_box_and_hi_res_figure():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from ddpm_lib.notebook import setup\ng = setup('t')\nimport matplotlib.pyplot as plt"),
        nbformat.v4.new_code_cell("from ddpm_lib.progress import progress_bar\nfor i in progress_bar(range(3)): pass"),
        nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([0, 1])\nplt.show()"),
        nbformat.v4.new_code_cell("from ddpm_lib.notebook import trim_heap\nsetup('t')\n"
                                  "print(get_ipython().events.callbacks['post_run_cell'].count(trim_heap))"),
    ]
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    assert not [o for c in nb.cells for o in c.outputs if o.get("name") == "stderr"]
    (png,) = [o for o in nb.cells[2].outputs if "image/png" in o.get("data", {})]
    assert png["metadata"]["image/png"]["width"] > 0
    assert nb.cells[3].outputs[0]["text"].strip() == "1"  # the heap is trimmed after each cell, hooked once


def test_deterministic_algorithms_without_loading_inductor():
    """setup's deterministic mode is torch's, and reaches inductor when torch.compile loads it later."""
    import subprocess
    import sys

    code = ("import sys, torch; from ddpm_lib.notebook import deterministic_algorithms; deterministic_algorithms(); "
            "assert torch.are_deterministic_algorithms_enabled(); assert 'torch._inductor.config' not in sys.modules; "
            "import torch._inductor.config as c; assert c.deterministic; print('ok')")
    env = {k: v for k, v in __import__("os").environ.items() if k != "TORCHINDUCTOR_DETERMINISTIC"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_trim_heap_is_a_no_op_without_glibc(monkeypatch):
    """trim_heap returns a bool (glibc's answer) and does nothing where the C library is not glibc."""
    assert isinstance(notebook.trim_heap(None), bool)
    monkeypatch.setattr(notebook, "_glibc", lambda: None)
    assert notebook.trim_heap() is False

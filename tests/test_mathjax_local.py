"""_ext/mathjax_local.py: the pinned MathJax 4 from _static/mathjax (offline), else the same version from the CDN."""
import json
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import mathjax_local as mj  # noqa: E402


def _config():
    return SimpleNamespace(mathjax_path="default", html_js_files=[], html_css_files=[],
                           mathjax3_config={"tex": {"macros": {"E": "\\mathbb{E}"}},
                                            "output": {"displayOverflow": "linebreak"}})


def _site(tmp_path, local: bool):
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"mathjax": "4.1.3"}}))
    if local:
        (tmp_path / "_static" / "mathjax").mkdir(parents=True)
        (tmp_path / "_static" / "mathjax" / "tex-chtml.js").write_text("")
    return SimpleNamespace(srcdir=str(tmp_path))


def test_local_copy_with_its_font(tmp_path):
    config = _config()
    mj._config_inited(_site(tmp_path, local=True), config)
    assert config.mathjax_path == "mathjax/tex-chtml.js"
    assert config.mathjax3_config["loader"]["paths"]["fonts"] == "[mathjax]/fonts"
    assert config.mathjax3_config["tex"]["macros"]["E"] == "\\mathbb{E}"          # macros kept
    assert config.mathjax3_config["output"]["displayOverflow"] == "linebreak"


def test_cdn_fallback_loads_the_pinned_version(tmp_path):
    config = _config()
    mj._config_inited(_site(tmp_path, local=False), config)
    assert config.mathjax_path == "https://cdn.jsdelivr.net/npm/mathjax@4.1.3/tex-chtml.js"
    assert "loader" not in config.mathjax3_config


def test_the_book_pins_mathjax_4_and_breaks_long_equations():
    import yaml

    version = mj.pinned_version(ROOT)
    assert version.startswith("4.1.") and version.count(".") == 2          # exact pin
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/mathjax"]["version"] == version
    mj_config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]["mathjax3_config"]
    assert mj_config["output"]["displayOverflow"] == "linebreak"
    assert set(mj_config["tex"]["macros"]) >= {"E", "R", "N", "abar", "btilde"}

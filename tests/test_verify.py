"""The checking helpers: they pass true claims, fail false ones, and record both."""
import pytest
import sympy as sp

from ddpm_lib import verify


@pytest.fixture(autouse=True)
def fresh_ledger():
    verify.reset()
    verify.set_chapter("tests")
    yield
    verify.reset()


def test_symbolic_zero_passes_and_fails(capsys):
    x = sp.symbols("x")
    verify.symbolic_zero("trig", sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1, "Pythagoras")
    assert "✔ trig: Pythagoras [symbolic]" in capsys.readouterr().out
    with pytest.raises(verify.VerificationError, match="check 'bad' failed: wrong.*simplifies to"):
        verify.symbolic_zero("bad", sp.sin(x) - 1, "wrong")
    recs = verify.ledger()
    assert [r.passed for r in recs] == [True, False]


def test_symbolic_equal_matrix():
    a = sp.Matrix([[1, 2], [3, 4]])
    verify.symbolic_equal("m", a * a.inv(), sp.eye(2), "inverse")
    with pytest.raises(verify.VerificationError):
        verify.symbolic_equal("m2", a, sp.eye(2), "not equal")


def test_close_reports_error_and_tolerance():
    verify.close("c", [1.0, 2.0], [1.001, 2.0], "near", atol=1e-2, why="test")
    with pytest.raises(verify.VerificationError, match=r"max error 0\.1 against tolerance 0\.01 \(because\)"):
        verify.close("c2", 1.1, 1.0, "far", atol=1e-2, why="because")
    with pytest.raises(verify.VerificationError):
        verify.close("nan", float("nan"), 1.0, "nan never passes", atol=1.0, why="x")
    with pytest.raises(ValueError, match="needs a tolerance"):
        verify.close("c3", 1.0, 1.0, "no tol", why="x")


def test_within_standard_errors():
    verify.within_standard_errors("mc", 1.03, 1.0, 0.01, "ok at 3 se")
    with pytest.raises(verify.VerificationError, match="5 standard errors"):
        verify.within_standard_errors("mc2", 1.05, 1.0, 0.01, "too far")
    with pytest.raises(ValueError, match="std_error"):
        verify.within_standard_errors("mc3", 1.0, 1.0, 0.0, "zero se")


def test_less_than_and_holds():
    verify.less_than("lt", 0.5, 1.0, "below", why="bound")
    with pytest.raises(verify.VerificationError):
        verify.less_than("lt2", 1.5, 1.0, "above", why="bound")
    verify.holds("h", True, "true")
    with pytest.raises(verify.VerificationError, match="custom"):
        verify.holds("h2", False, "false", detail="custom")


def test_fast_refutation_does_not_reject_true_identities():
    t = sp.symbols("t", positive=True)
    f = sp.Function("f")
    verify.symbolic_zero("exp", sp.exp(-t / 2) ** 2 - sp.exp(-t), "exp identity")
    verify.symbolic_zero("fn", sp.diff(f(t) ** 2, t) - 2 * f(t) * sp.diff(f(t), t), "chain rule with unknown f")
    with pytest.raises(verify.VerificationError):
        verify.symbolic_zero("nz", sp.exp(-t / 2) - sp.exp(-t), "false")


def test_wrong_variant_must_fail(capsys):
    x = sp.symbols("x")
    with verify.wrong_variant("wv", "sin = 1"):
        verify.symbolic_zero("inner", sp.sin(x) - 1, "sin = 1")
    out = capsys.readouterr().out
    assert "the wrong variant is rejected" in out and "inner" not in out
    assert [r.name for r in verify.ledger()] == ["wv"]
    with pytest.raises(verify.VerificationError, match="cannot tell right from wrong"):
        with verify.wrong_variant("wv2", "true claim"):
            verify.symbolic_zero("inner2", x - x, "x = x")


def test_summary_counts():
    verify.holds("a", True, "a")
    verify.holds("b", True, "b")
    verify.summary(expected=2)
    with pytest.raises(verify.VerificationError, match="ran 2 checks, expected 3"):
        verify.summary(expected=3)


def test_unchecked_is_recorded_apart_from_checks(capsys):
    verify.holds("a", True, "a")
    verify.unchecked("step", "the slope is about -1", reason="read off a plot")
    assert "○ step: the slope is about -1 [unchecked: read off a plot]" in capsys.readouterr().out
    (rec,) = [r for r in verify.ledger() if r.name == "step"]
    assert rec.status == "unchecked" and rec.kind == "unchecked"
    verify.summary(expected=1)                       # an unchecked step is not a check
    assert capsys.readouterr().out.strip() == "1 of 1 checks in 'tests' passed. 1 stated step is not checked."
    with pytest.raises(ValueError, match="needs a reason"):
        verify.unchecked("x", "claim", reason=" ")


def test_record_payload_has_no_run_dependent_numbers():
    verify.close("c", 1.0001, 1.0, "near", atol=1e-2, why="test")
    payload = verify.ledger()[0].payload()
    assert payload == {"type": "check", "chapter": "tests", "name": "c", "claim": "near",
                       "method": "numeric, tolerance 0.01: test", "kind": "check", "status": "passed"}

"""The ledger typesets the ASCII math of claims: scripts, Greek letters, operators; identifiers stay."""
import pytest

from ddpm_course.ledger_text import claim_segments


def render(text):
    return "".join({"text": "{}", "sub": "_[{}]", "sup": "^[{}]", "math": "${}$"}[k].format(s)
                   for k, s in claim_segments(text))


@pytest.mark.parametrize("claim,shown", [
    ("N(m0 e^-tau, 1 + (v0 - 1) e^{-2 tau})", "N(m0 e^[−τ], 1 + (v0 − 1) e^[−2 τ])"),
    ("Var x_t - 1 = e^{-t} (Var x_0 - 1)", "Var x_[t] − 1 = e^[−t] (Var x_[0] − 1)"),
    ("sqrt(abar_{i-1}) x_0", "√(ᾱ_[i−1]) x_[0]"),
    ("Cov(W_0.5, W_1) = 0.5", "Cov(W_[0.5], W_[1]) = 0.5"),
    ("-B_i <= log abar_i + t_i <= 0", "-B_[i] ≤ log ᾱ_[i] + t_[i] ≤ 0"),
    ("E e^{W_t} = e^{t/2}", "E e^[Wₜ] = e^[t/2]"),
    ("Langevin leaves $p$ unchanged", "Langevin leaves $p$ unchanged"),
    ("x**2 from x_0 = +-c", "x^[2] from x_[0] = ±c"),
])
def test_math_is_typeset(claim, shown):
    assert render(claim) == shown


@pytest.mark.parametrize("claim", ["markov_chain and q_sample agree", "ddpm_ancestral(variance='beta_tilde') runs",
                                   "one vp_step maps", "score_from_eps(eps_fn)"])
def test_identifiers_and_quoted_values_stay(claim):
    assert render(claim) == claim

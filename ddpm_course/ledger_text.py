"""Typeset the ASCII math of a ledger claim: ``N(m0 e^-tau, 1 - e^{-t})`` → N(m0 e⁻ᵗ…).

The checks state their claims in plain text (``e^{-t/2}``, ``abar_i``, ``sqrt(2h)``,
``<=``), because the same text is printed under each check. For the ledger page this
module splits a claim into segments the Sphinx extension turns into nodes:

* ``("text", s)``: text with Greek letter names, ``sqrt``, ``<=``, ``->``, ``+-``, ``...``
  replaced by their symbols;
* ``("sub", s)`` / ``("sup", s)``: a subscript or superscript (``x_{i-1}``, ``W_0.5``,
  ``e^-tau``, ``e^{-(t-s)/2}``);
* ``("math", tex)``: a ``$…$`` span, typeset by MathJax.

Only what is clearly math is changed: ``q_sample`` or ``'beta_tilde'`` (an identifier,
a quoted value) stay as they are. Pure functions, no Sphinx.
"""
from __future__ import annotations

import re

__all__ = ["claim_segments", "symbols"]

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eps": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
    "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ",
    "Omega": "Ω", "abar": "ᾱ", "btilde": "β̃", "nabla": "∇", "grad": "∇", "sqrt": "√", "inf": "∞",
    "infty": "∞", "partial": "∂",
}
_OPS = [("<=", "≤"), (">=", "≥"), ("!=", "≠"), ("->", "→"), ("+-", "±"), ("...", "…"), (" - ", " − ")]
_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z]+(?![A-Za-z0-9_])")
# a script argument without braces: a number, or one letter / Greek name with digits and primes
_ARG = re.compile(r"-?(?:\d+(?:\.\d+)?|(?:" + "|".join(sorted(GREEK, key=len, reverse=True))
                  + r"|[A-Za-z])(?![A-Za-z])\d*'*)")
_MATH = re.compile(r"(?<!\\)\$([^$]+?)(?<!\\)\$")
_QUOTED = re.compile(r"'[^'\s]*'|`[^`]*`|\"[^\"]*\"")


def symbols(text: str) -> str:
    """Greek names, ``sqrt`` and the ASCII operators of ``text`` as symbols (whole words only)."""
    for a, b in _OPS:
        text = text.replace(a, b)
    return _WORD.sub(lambda m: GREEK.get(m.group(0), m.group(0)), text)


def _script_arg(s: str, i: int) -> int:
    """End of the script argument starting at ``s[i]`` (after ``_`` or ``^``), or -1."""
    if i < len(s) and s[i] in "{(":
        close = "}" if s[i] == "{" else ")"
        depth = 0
        for k in range(i, len(s)):
            depth += s[k] == s[i]
            depth -= s[k] == close
            if depth == 0:
                return k + 1
        return -1
    m = _ARG.match(s, i)
    return m.end() if m else -1


def _base_is_math(s: str, i: int) -> bool:
    """Whether the word ending at ``s[i-1]`` (before ``_``) is a math symbol, not an identifier."""
    m = re.search(r"[A-Za-z]+\d*'*$", s[:i])
    if not m:
        return i > 0 and s[i - 1] in ")}]"
    word = re.sub(r"\d*'*$", "", m.group(0))
    before = s[m.start() - 1] if m.start() > 0 else " "
    return (len(word) == 1 or word in GREEK) and before not in "_."


_SUB = str.maketrans("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUP = str.maketrans("0123456789+-=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ")
_INNER = re.compile(r"([_^])(\{[^{}]*\}|-?[A-Za-z0-9]+)")


def _inner_scripts(arg: str) -> str:
    """A script inside a script (``e^{W_t}``) as Unicode sub/superscript characters where they exist."""
    def repl(m: re.Match) -> str:
        body = m.group(2).strip("{}")
        table = _SUB if m.group(1) == "_" else _SUP
        small = body.translate(table)
        return small if all(ord(ch) > 127 for ch in small) else m.group(0)
    return _INNER.sub(repl, arg)


def _plain(s: str) -> list[tuple[str, str]]:
    s = s.replace("**", "^")
    out: list[tuple[str, str]] = []
    buf, i = [], 0
    while i < len(s):
        c = s[i]
        if c in "_^" and (c == "^" or _base_is_math(s, i)):
            end = _script_arg(s, i + 1)
            # an identifier goes on (q_sample, beta_tilde): the argument must end the word
            if end > 0 and not (c == "_" and end < len(s) and (s[end].isalnum() or s[end] == "_")):
                arg = s[i + 1:end]
                if arg[:1] == "{" or (arg[:1] == "(" and c == "_"):
                    arg = arg[1:-1]
                out.append(("text", symbols("".join(buf))))
                buf = []
                out.append(("sub" if c == "_" else "sup", symbols(_inner_scripts(arg)).replace("-", "−")))
                i = end
                continue
        buf.append(c)
        i += 1
    out.append(("text", symbols("".join(buf))))
    return out


def claim_segments(text: str) -> list[tuple[str, str]]:
    """Split a claim into ``(kind, text)`` segments: ``text``, ``sub``, ``sup`` or ``math``."""
    out: list[tuple[str, str]] = []
    pos = 0
    spans = sorted([(m.start(), m.end(), "math", m.group(1)) for m in _MATH.finditer(text)]
                   + [(m.start(), m.end(), "quoted", m.group(0)) for m in _QUOTED.finditer(text)])
    for start, end, kind, body in spans:
        if start < pos:
            continue
        out += _plain(text[pos:start])
        out.append(("math", body) if kind == "math" else ("text", body))
        pos = end
    out += _plain(text[pos:])
    merged: list[tuple[str, str]] = []
    for kind, s in out:
        if not s:
            continue
        if merged and kind == "text" and merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + s)
        else:
            merged.append((kind, s))
    return merged

"""The format of a check's record: what :mod:`ddpm_lib.verify` writes and the ledger reads.

Pure Python (no torch, no NumPy), so that the book's Sphinx extension reads the ledger without
loading the numerical stack.
"""

#: The mark of a passed check (and of a rejected wrong variant).
CHECK_MARK = "✔"
#: The mark of a stated step that has no check.
UNCHECKED_MARK = "○"
#: The MIME type of the structured record shown next to each line (and of the summary).
RECORD_MIME = "application/vnd.ddpm-check+json"
#: The summary line of a chapter; the ledger reads the record, people read this.
SUMMARY_FORMAT = "{passed} of {run} checks in '{chapter}' passed."
#: How the claim of a rejected wrong variant begins.
WRONG_VARIANT_PREFIX = "the wrong variant is rejected: "

"""``python -m ddpm_course.grading``: grade a folder of notebooks; ``… merge``: join shard CSVs.

    python -m ddpm_course.grading SUBMISSIONS --out grades.csv [--jobs N] [--timeout S]
                                  [--memory 3G] [--seed N] [--resume] [--shard K/N] [--no-sandbox]
    python -m ddpm_course.grading merge --out grades.csv grades-1.csv grades-2.csv …
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from queue import Queue

from . import runner, sandbox
from .report import Row, cell, escape_name, read_csv, write_csv, write_feedback
from .shard import find_submissions, in_shard, merge, parse_shard

__all__ = ["main", "grade_folder"]


def _bytes(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    try:
        return int(float(text[:-1]) * units[text[-1]]) if text[-1:] in units else int(text)
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(f"expected a size such as 3G or 512M, got {text!r}") from None


def _expected_ids(subs) -> dict[str, list[str]]:
    """Exercises that any notebook of the same name (or any top-level notebook) checks: expected of all."""
    from .protocol import checker_ids

    expected: dict[str, list[str]] = {}
    for sub in subs:
        if sub.refused:
            continue
        nb, _ = runner.read_notebook(sub.path)
        if nb is not None:
            exp = expected.setdefault(_group(sub), [])
            exp += [i for i in checker_ids(nb) if i not in exp]
    return expected


def _group(sub) -> str:
    return "*" if "/" not in sub.id else sub.notebook


def grade_folder(folder: Path, out: Path, cfg: runner.Config, jobs: int = 1, resume: bool = False,
                 shard: tuple[int, int] | None = None, log=print) -> list[dict[str, str]]:
    """Grade every submission of ``folder`` (or of one shard) into ``out``; the CSV rows."""
    subs = find_submissions(folder)
    expected = _expected_ids(subs)
    if shard:
        subs = [s for s in subs if in_shard(s, *shard)]
    done: list[dict[str, str]] = []
    if resume and out.exists():
        done = read_csv(out)
        graded = {r["submission"] for r in done}
        subs = [s for s in subs if cell(escape_name(s.id)) not in graded]
        log(f"resuming: {len(graded)} submissions already graded, {len(subs)} to go")
    write_csv(done, out)
    lock = threading.Lock()
    slots: Queue = Queue()
    for k in range(max(1, jobs)):
        slots.put(k)

    def one(sub) -> list[Row]:
        slot = slots.get()
        try:
            return runner.grade_submission(sub, expected.get(_group(sub), []), cfg, slot)
        except Exception as exc:  # noqa: BLE001 - one submission's trouble is its own row
            return [Row(sub.id, sub.student, sub.notebook, "", "error", f"grader error: {type(exc).__name__}: {exc}")]
        finally:
            slots.put(slot)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, s): s for s in subs}
        for fut in as_completed(futures):
            rows = fut.result()
            with lock:
                done += [r.as_cells() for r in rows]
                write_csv(done, out)
                write_feedback(out, rows)
            passed = sum(r.result == "pass" for r in rows)
            flags = sorted({r.result for r in rows} - {"pass", "fail"})
            log(f"  {escape_name(rows[0].submission)}: {passed}/{len(rows)} passed" + (f" ({', '.join(flags)})" if flags else ""))
    return done


def _grade_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m ddpm_course.grading",
                                 description="Grade a folder of notebooks, each in a bubblewrap sandbox. "
                                             "'python -m ddpm_course.grading merge --help' joins shard CSVs.")
    ap.add_argument("submissions", help="folder of submitted notebooks (any depth; the first folder or the "
                                        "file's stem names the student)")
    ap.add_argument("--out", default="grades.csv", help="CSV to write (default grades.csv); feedback/ goes beside it")
    ap.add_argument("--timeout", type=float, default=120, help="seconds for a notebook's cells (default 120)")
    ap.add_argument("--probe-timeout", type=float, default=30, help="seconds for each exercise's check (default 30)")
    ap.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    ap.add_argument("--memory", type=_bytes, default=sandbox.Limits.memory_bytes,
                    help="address-space limit per process in the sandbox (default 3G)")
    ap.add_argument("--max-procs", type=int, default=sandbox.Limits.nproc,
                    help="processes and threads per sandbox (default 256)")
    ap.add_argument("--kernel", default="python3", help="Jupyter kernel (default python3)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the grader's cases (default: a fresh one)")
    ap.add_argument("--resume", action="store_true", help="keep the rows already in --out and skip those submissions")
    ap.add_argument("--shard", default=None, help="grade only slice K of N (K/N, 1-based), for a cluster job array")
    ap.add_argument("--no-sandbox", action="store_true",
                    help="run the notebooks without bubblewrap (trusted code only; the CSV says so)")
    return ap


def _merge_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m ddpm_course.grading merge",
                                 description="Join the CSVs of several shards into one.")
    ap.add_argument("inputs", nargs="+", help="shard CSVs")
    ap.add_argument("--out", required=True, help="merged CSV to write")
    args = ap.parse_args(argv)
    try:
        n = merge([Path(p) for p in args.inputs], Path(args.out))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"merged {len(args.inputs)} CSVs: {n} rows -> {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["merge"]:
        return _merge_main(argv[1:])
    ap = _grade_parser()
    args = ap.parse_args(argv)
    folder, out = Path(args.submissions), Path(args.out)
    if not folder.is_dir():
        ap.error(f"{args.submissions} is not a folder")
    if not 1 <= args.jobs <= 256 or args.timeout <= 0 or args.probe_timeout <= 0 or args.max_procs < 16:
        ap.error("--jobs must be 1..256, --timeout and --probe-timeout positive, --max-procs at least 16")
    try:
        shard = parse_shard(args.shard) if args.shard else None
    except ValueError as exc:
        ap.error(str(exc))
    if not args.no_sandbox:
        problem = sandbox.check_bwrap()
        if problem:
            print(problem, file=sys.stderr)
            return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    cfg = runner.Config(timeout=args.timeout, probe_timeout=args.probe_timeout, kernel=args.kernel, seed=seed,
                        limits=sandbox.Limits(memory_bytes=args.memory, nproc=args.max_procs),
                        sandboxed=not args.no_sandbox,
                        hide=[folder.resolve(), out.resolve().parent, Path(os.getcwd())])
    mode = "bubblewrap sandbox" if cfg.sandboxed else "NO SANDBOX (--no-sandbox: trusted notebooks only)"
    print(f"grading {folder} -> {out} ({mode}; cases seed {seed}; {args.jobs} at once)")
    t0 = time.perf_counter()
    rows = grade_folder(folder, out, cfg, args.jobs, args.resume, shard)
    subs = {r["submission"] for r in rows}
    print(f"graded {len(subs)} submissions, {len(rows)} rows -> {out} ({time.perf_counter() - t0:.0f} s wall)")
    return 0

"""Run a command in a bubblewrap sandbox that sees only its own scratch folder.

The sandbox (``bwrap``, Debian package ``bubblewrap``):

* a read-only view of the system (``--ro-bind / /``), a fresh ``/dev``, ``/proc`` and ``/tmp``;
* ``$HOME``, ``/root``, ``/srv``, ``/mnt``, ``/media``, ``/run``, ``/var/tmp``, the project's
  root (book, tests, git history: the reference solutions), the submissions folder, the
  output folder and the grader's working folder hidden under empty tmpfs; only the Python
  installation and the ``ddpm_lib`` / ``ddpm_course`` packages are bound back, read-only,
  with ``ddpm_course/solutions`` hidden again;
* its scratch folder's files (only the student's notebook and the job) bound read-only into
  ``/tmp/student``, on a size-limited tmpfs ``/tmp``, the only place it can write;
* new IPC, PID, network (loopback only), UTS and cgroup namespaces: it cannot see or signal
  the grader or another student; ``--die-with-parent`` and the PID namespace end every process
  it started when it ends;
* limits: wall time (the grader kills its process group), address space (``RLIMIT_AS``),
  processes (``RLIMIT_NPROC``), file size (``RLIMIT_FSIZE``), all output (the tmpfs's size),
  no core files.

When the grader runs as root (CI), the sandboxed processes run as an unprivileged uid of their
own (:func:`sandbox_uid`, one per concurrent job) with every capability dropped: ``RLIMIT_NPROC``
does not apply to root, and a fork bomb in one job must not starve the next. bwrap is then
run without a user namespace (``--unshare-all`` would map that uid back to root).
"""
from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "MISSING", "bwrap_path", "check_bwrap", "sandbox_argv", "sandbox_uid", "run_limited", "INSIDE"]

MISSING = ("error: bubblewrap is not installed, and grading runs every submission in its sandbox "
           "(Debian/Ubuntu: apt-get install bubblewrap); pass --no-sandbox only for trusted notebooks")
INSIDE = "/tmp/student"           # where the scratch folder appears in the sandbox
UID_BASE = 100_000
_HIDDEN = ("/home", "/root", "/srv", "/mnt", "/media", "/run", "/var/tmp")
_SYSTEM = {"/", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/dev", "/sys", "/tmp"}


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run."""

    wall_s: float = 300.0
    memory_bytes: int = 3 << 30      # address space per process
    nproc: int = 256                 # processes + threads of the sandbox's uid
    file_bytes: int = 64 << 20       # largest file it may write (output size)
    tmp_bytes: int = 512 << 20       # all it may write: /tmp, its only writable place, is a tmpfs this large


def sandbox_uid(slot: int) -> int:
    """The unprivileged uid of job ``slot`` (< 256) of this grader: distinct between concurrent jobs and,
    very likely, between two graders running at once (the process limit counts per uid)."""
    return UID_BASE + (os.getpid() % 10_000) * 256 + slot % 256


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def check_bwrap() -> str | None:
    """``None`` when bwrap runs here, else a one-line reason."""
    path = bwrap_path()
    if path is None:
        return MISSING
    try:
        proc = subprocess.run([path, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid",
                               "--unshare-net", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"error: bubblewrap cannot run here ({exc})"
    if proc.returncode != 0:
        why = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        return f"error: bubblewrap cannot create a sandbox here: {why[0]}"
    return None


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _package_dirs() -> list[str]:
    import ddpm_course
    import ddpm_lib

    return [str(Path(m.__file__).resolve().parent) for m in (ddpm_lib, ddpm_course)]


def sandbox_argv(scratch: Path, argv: list[str], hide: list[Path], uid: int | None,
                 limits: Limits | None = None) -> list[str]:
    """The bwrap command line that runs ``argv`` with the files of ``scratch`` at :data:`INSIDE` (see the
    module docstring)."""
    limits = limits or Limits()
    pkgs = _package_dirs()
    project = str(Path(pkgs[1]).parent)
    wanted_hidden = list(_HIDDEN) + [project, os.path.expanduser("~")] + [str(Path(h).resolve()) for h in hide]
    hidden: list[str] = []
    for h in sorted({h for h in wanted_hidden if h and os.path.isdir(h)}, key=len):
        if (h in _SYSTEM or any(_under(s, h) for s in _SYSTEM) or _under(h, "/tmp")
                or any(_under(h, k) for k in hidden)):  # /tmp is a fresh tmpfs already
            continue
        hidden.append(h)
    binds = [sys.prefix, os.path.realpath(sys.base_prefix)] + pkgs
    args = [bwrap_path() or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--perms", "01777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    for h in hidden:
        args += ["--tmpfs", h]
    made: set[str] = set()
    for b in sorted({os.path.realpath(p) for p in binds} | set(binds), key=len):
        # a bind under a hidden folder or under the fresh /tmp (a project or venv cloned into /tmp)
        root = next((h for h in hidden + ["/tmp"] if _under(b, h) and b != h), None)
        if root is None or not os.path.exists(b):
            continue
        parts = Path(b).relative_to(root).parts[:-1]
        cur = root
        for part in parts:
            cur = f"{cur}/{part}"
            if cur not in made:
                args += ["--perms", "0755", "--dir", cur]
                made.add(cur)
        args += ["--ro-bind", b, b]
    solutions = os.path.join(pkgs[1], "solutions")
    if os.path.isdir(solutions):
        args += ["--tmpfs", solutions]
    args += ["--perms", "01777", "--dir", INSIDE]
    for f in sorted(Path(scratch).iterdir()):        # the notebook (and the job), read-only
        args += ["--ro-bind", str(f), f"{INSIDE}/{f.name}"]
    args += ["--chdir", INSIDE,
             "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
             "--die-with-parent", "--new-session", "--clearenv"]
    for key, value in sandbox_env().items():
        args += ["--setenv", key, value]
    if uid is not None:
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
                 shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all"]
    else:
        args += ["--"]
    return args + argv


def sandbox_env(home: str = INSIDE) -> dict[str, str]:
    """The whole environment of a sandboxed run (nothing of the grader's leaks in)."""
    return {"PATH": f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/.mpl", "OMP_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "IPYTHONDIR": f"{home}/.ipython",
            "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter-runtime", "JUPYTER_DATA_DIR": f"{home}/.jupyter-data",
            "PYTHONPATH": str(Path(_package_dirs()[1]).parent)}


def _tasks_of_this_user() -> int:
    """Processes and threads of the grader's uid now (RLIMIT_NPROC counts them all)."""
    uid, n = os.getuid(), 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if int(fields.get("Uid", "-1").split()[0]) == uid:
                n += int(fields.get("Threads", "1"))
    return n


def _preexec(limits: Limits, nproc: bool):
    # as root the sandbox runs as a uid of its own; otherwise the limit counts all of our tasks too
    budget = limits.nproc if os.geteuid() == 0 else limits.nproc + _tasks_of_this_user()

    def apply() -> None:
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (budget, budget))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
    return apply


def run_limited(argv: list[str], limits: Limits, stdout_path: Path, cwd: Path, env: dict[str, str] | None,
                nproc: bool) -> tuple[int | None, bool]:
    """Run ``argv`` with ``limits``, its stdout into ``stdout_path``; ``(exit code, timed out)``.

    The process gets its own session; at the wall-time limit the whole group is killed.
    """
    with open(stdout_path, "wb") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.DEVNULL,
                                cwd=str(cwd), env=env, preexec_fn=_preexec(limits, nproc), close_fds=True)
        try:
            return proc.wait(timeout=limits.wall_s), False
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return proc.returncode, True


def _kill_group(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGKILL,):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process stuck in the kernel
        pass

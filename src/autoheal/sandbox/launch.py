"""How a worker process is started, per tier, and how it is killed.

Why this shape:

* The command line, environment, uid and temp dir of a worker are a pure function of the tier,
  so the probe (:mod:`probe`) can try exactly the command the runner will use.
* The environment is built from scratch (never a copy of ``os.environ``): API keys cannot leak
  through inheritance.  ``python -I -S -B`` additionally ignores ``PYTHON*`` variables.
* Concurrent Snakemake jobs each get their own unprivileged uid (``UID_BASE + slot``) through an
  ``flock``-ed slot file: a uid-wide kill sweep or ``RLIMIT_NPROC`` of one worker then never
  touches another job's worker.  The lock is held for the life of the :class:`Slot`.
* Tier A runs the worker in bubblewrap as root *without* a user namespace (a root-mapped userns
  would make files root-owned and disable ``RLIMIT_NPROC``), with every capability dropped except
  the three the worker needs to switch to the slot uid itself; parents of bind mounts get 0755 so
  that uid can traverse them (bwrap would create them 0700).  Killing bwrap's process group is
  enough: ``--die-with-parent`` plus the PID namespace take every process inside down.
* Tier B has no namespaces: kill = process group + a sweep of the slot uid (``kill -1`` run as that
  uid kills everything it owns, including setsid'd orphans).  Tier B grants no writable path:
  there is no size-capped tmpfs without a mount namespace, and an extraction script has no need
  to write files (tier A gives it a private 64 MiB ``/tmp``).
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Slot", "WorkerLayout", "bwrap_argv", "kill_sandbox", "worker_sys_path"]

UID_BASE = 100000
MAX_SLOTS = 1000
TMPFS_BYTES = 64 * 1024 * 1024
SANDBOX_DIR = "/sandbox"
HERE = os.path.dirname(os.path.abspath(__file__))
WORKER_FILES = ("worker.py", "confine.py", "protocol.py")
PRELOAD = (
    "re",
    "json",
    "html",
    "html.parser",
    "html.entities",
    "math",
    "string",
    "collections",
    "itertools",
    "functools",
    "datetime",
    "decimal",
    "unicodedata",
    "typing",
    "dataclasses",
    "urllib.parse",
    "lxml",
    "lxml.etree",
    "lxml.html",
    "bs4",
    "soupsieve",
    "traceback",
    "linecache",
    "copy",
    "operator",
    "textwrap",
    "enum",
)
RLIMITS = {
    "AS": 1024 * 1024 * 1024,
    "CPU": 600,  # lifetime backstop; the parent's wall clock is the per-page limit
    "NPROC": 64,
    "FSIZE": 16 * 1024 * 1024,
    "NOFILE": 64,
    "CORE": 0,
}
SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/etc/ld.so.cache", "/etc/localtime")


def python_executable() -> str:
    return os.path.realpath(sys.executable)


@lru_cache(maxsize=1)
def worker_sys_path() -> tuple[str, ...]:
    """The stdlib plus the site-packages dirs holding lxml/bs4 -- not the venv, not the project."""
    paths = sysconfig.get_paths(
        vars={
            "base": sys.base_prefix,
            "platbase": sys.base_exec_prefix,
            "installed_base": sys.base_prefix,
            "installed_platbase": sys.base_exec_prefix,
        }
    )
    stdlib = paths["stdlib"]
    entries = [
        os.path.join(
            sys.base_prefix, "lib", f"python{sys.version_info[0]}{sys.version_info[1]}.zip"
        ),
        stdlib,
        paths["platstdlib"],
        os.path.join(paths["platstdlib"], "lib-dynload"),
    ]
    for name in ("lxml", "bs4", "soupsieve"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            entries.append(os.path.dirname(os.path.dirname(spec.origin)))
    out: list[str] = []
    for entry in entries:
        if entry not in out and os.path.exists(entry):
            out.append(entry)
    return tuple(out)


def scrubbed_env(home: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


class Slot:
    """An exclusive (uid, gid) for one worker, held by an ``flock`` until :meth:`release`."""

    def __init__(self) -> None:
        lock_dir = (
            "/run/autoheal-sandbox"
            if os.geteuid() == 0 and os.access("/run", os.W_OK)
            else os.path.join(tempfile.gettempdir(), f"autoheal-sandbox-{os.geteuid()}")
        )
        os.makedirs(lock_dir, mode=0o700, exist_ok=True)
        self._fd: int | None = None
        for slot in range(MAX_SLOTS):
            fd = os.open(
                os.path.join(lock_dir, f"slot-{slot}.lock"),
                os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                0o600,
            )
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._fd = fd
            self.slot = slot
            self.uid = self.gid = UID_BASE + slot
            return
        raise RuntimeError(f"all {MAX_SLOTS} sandbox slots are in use")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _bind_with_parents(args: list[str], path: str, made: set[str], dest: str | None = None) -> None:
    dest = dest or path
    parent = os.path.dirname(dest)
    chain = []
    while parent not in ("/", "") and parent not in made:
        chain.append(parent)
        parent = os.path.dirname(parent)
    for directory in reversed(chain):
        args += ["--perms", "0755", "--dir", directory]
        made.add(directory)
    args += ["--ro-bind", path, dest]
    made.add(dest)


def sandbox_sys_path() -> dict[str, str]:
    """Where each worker sys.path entry appears inside the tier-A sandbox.

    The interpreter's own tree keeps its path; other entries (a venv's site-packages, often
    inside the project tree) are mounted under ``/sandbox/site<i>``, so no host path of the
    project (or of ``/tmp``, which is the sandbox's private tmpfs) becomes visible."""
    prefix = os.path.realpath(sys.base_prefix)
    mapping = {}
    for i, entry in enumerate(worker_sys_path()):
        real = os.path.realpath(entry)
        if real.startswith(prefix + "/") or entry.startswith("/usr/") or not os.path.exists(entry):
            mapping[entry] = entry
        else:
            mapping[entry] = f"{SANDBOX_DIR}/site{i}"
    return mapping


def bwrap_argv(bwrap: str, as_root: bool) -> list[str]:
    """bubblewrap options for tier A; the command follows."""
    args = [
        bwrap,
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    for key, value in scrubbed_env("/tmp").items():
        args += ["--setenv", key, value]
    if as_root:
        args += ["--cap-drop", "ALL"]
        for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"):
            args += ["--cap-add", cap]
    else:
        args += ["--unshare-user", "--disable-userns"]
    made: set[str] = {"/tmp", "/proc", "/dev", "/etc"}
    args += ["--ro-bind", "/usr", "/usr"]
    made.add("/usr")
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
        made.add(top)
    args += ["--dir", "/etc", "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--perms", "01777", "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp"]
    prefix = os.path.realpath(sys.base_prefix)
    if not prefix.startswith("/usr/"):
        _bind_with_parents(args, prefix, made)
    args += ["--perms", "0755", "--dir", SANDBOX_DIR]
    made.add(SANDBOX_DIR)
    for host, inside in sandbox_sys_path().items():
        if host != inside:
            _bind_with_parents(args, host, made, dest=inside)
    for name in WORKER_FILES:
        args += ["--ro-bind", os.path.join(HERE, name), f"{SANDBOX_DIR}/{name}"]
    args += ["--chdir", "/tmp"]
    return args


def find_bwrap() -> str | None:
    return shutil.which("bwrap") or (os.path.exists("/usr/bin/bwrap") and "/usr/bin/bwrap") or None


@dataclass
class WorkerLayout:
    """Everything needed to spawn one worker for ``tier``."""

    tier: str
    argv: list[str]
    env: dict[str, str]
    cwd: str
    config: dict  # confinement part of the worker's first frame


def make_layout(
    tier: str, slot: Slot | None, host_tmp: str | None, req_fd: int, resp_fd: int
) -> WorkerLayout:
    python = python_executable()
    as_root = os.geteuid() == 0
    uid = slot.uid if slot is not None and as_root and tier in ("A", "B") else None
    config: dict = {
        "sys_path": list(worker_sys_path()),
        "preload": list(PRELOAD),
        "rlimits": dict(RLIMITS),
        "uid": uid,
        "gid": uid,
        "seccomp": tier in ("A", "B"),
        "landlock": None,
    }
    if tier == "A":
        bwrap = find_bwrap()
        argv = bwrap_argv(bwrap, as_root) + [
            python,
            "-I",
            "-S",
            "-B",
            f"{SANDBOX_DIR}/worker.py",
            str(req_fd),
            str(resp_fd),
        ]
        inside = sandbox_sys_path()
        config["sys_path"] = [inside[p] for p in worker_sys_path()]
        config["cwd"] = "/tmp"
        config["landlock"] = {"read": _read_paths(inside), "write": ["/tmp"]}
        return WorkerLayout(tier, argv, scrubbed_env("/tmp"), "/", config)
    argv = [python, "-I", "-S", "-B", os.path.join(HERE, "worker.py"), str(req_fd), str(resp_fd)]
    config["cwd"] = host_tmp
    if tier == "B":
        # no writable path at all: without a mount namespace there is no size-capped tmpfs, and
        # an uncapped host dir lets a script fill the disk until the hard timeout
        config["landlock"] = {"read": _read_paths(), "write": []}
    return WorkerLayout(tier, argv, scrubbed_env(host_tmp), host_tmp, config)


def _read_paths(inside: dict[str, str] | None = None) -> list[str]:
    paths = [inside[p] for p in worker_sys_path()] if inside else list(worker_sys_path())
    for path in SYSTEM_READ:
        if os.path.exists(path):
            paths.append(os.path.realpath(path))
    return paths


def kill_sandbox(proc: subprocess.Popen, uid: int | None) -> None:
    """SIGKILL the worker's whole process group (tier A: bwrap, which takes its PID namespace
    down), then, if it ran under a slot uid without a PID namespace, everything that uid owns."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if uid is not None:
        setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        kill = shutil.which("kill") or "/usr/bin/kill"
        subprocess.run(
            [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", kill, "-KILL", "-1"],
            env={"PATH": "/usr/bin:/bin"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=10,
        )
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

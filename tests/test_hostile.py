"""Hostile-script suite for the sandbox (issue 4): one script per attack in ``tests/hostile/``.

HOW THIS RUNS.  A containment failure (``kill(-1)`` as root, a fork bomb) must not be able to
take CI down, so the attack tests only run inside a throw-away PID namespace:

* ``pytest tests/test_hostile.py`` (or the whole suite) runs the single outer test
  ``test_hostile_suite_in_throwaway_pid_namespace``, which re-executes pytest on this module as

      unshare --pid --fork --kill-child --mount-proc PYTHON -c MINI_INIT PYTHON -m pytest tests/test_hostile.py

  with ``AUTOHEAL_HOSTILE_INNER=1`` and canary API keys in its environment, and fails if the inner
  run fails (its report is printed).  PID 1 of the namespace is a tiny init (signals sent from
  inside cannot kill it); when it exits, the kernel kills everything left in the namespace.
* Outside the namespace the attack tests skip; inside, the launcher skips.
* Needs root (or unprivileged user namespaces) for ``unshare``; skips with the reason otherwise.
* CI: ``apt-get update && apt-get install -y bubblewrap`` first, or the tier-A cases skip; set
  ``AUTOHEAL_HOSTILE_REQUIRE_TIER=A`` to make a missing tier A (or B) a failure instead of a skip.

Every attack is run per tier (A, B, C; ``AUTOHEAL_SANDBOX_MAX_TIER`` forces B and C on a machine
that has A) and asserts containment AND that the next page on the same Sandbox still works.
Tier C (rlimits + scrubbed env only) does not contain file, network, process or privileged
attacks by design: those cases are strict xfails, and the ones that would be dangerous to run
as root without containment (fork bomb, kill -1, mount/ptrace, disk fill) are not run in tier C.
Timeouts are short (soft 0.5 s, hard 1.5 s, load 1 s) to keep the suite well under 3 minutes.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import resource
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from autoheal.sandbox import MAX_TIER_ENV, Sandbox, SandboxUnavailable, probe_report

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).resolve().parent / "hostile"
INNER_ENV = "AUTOHEAL_HOSTILE_INNER"
REQUIRE_ENV = (
    "AUTOHEAL_HOSTILE_REQUIRE_TIER"  # CI: "A" turns "tier A unavailable" skips into failures
)
CANARY = "CANARY-" + "7f3a9c"
CANARY_ENV = {
    "ANTHROPIC_API_KEY": f"fake-anthropic-{CANARY}-anthropic",
    "OPENAI_API_KEY": f"fake-openai-{CANARY}",
    "GEMINI_API_KEY": f"{CANARY}-gemini",
}
MINI_INIT = (
    "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))  # autoheal-hostile-init"
)
SOFT, HARD, LOAD = 0.5, 1.5, 1.0
TIERS = ("A", "B", "C")
SLOT_UIDS = range(100000, 101000)

INSIDE = os.environ.get(INNER_ENV) == "1"
hostile = pytest.mark.skipif(
    not INSIDE, reason="attack tests run inside the PID namespace started by the launcher test"
)


# ---------------------------------------------------------------- launcher (outside only)
@pytest.mark.skipif(INSIDE, reason="already inside the throw-away PID namespace")
def test_hostile_suite_in_throwaway_pid_namespace():
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("util-linux unshare not found: cannot isolate the hostile suite")
    ns = [unshare, "--pid", "--fork", "--kill-child", "--mount-proc"]
    if subprocess.run(ns + ["true"], capture_output=True).returncode != 0:
        pytest.skip("cannot create a PID namespace here (needs root or user namespaces)")
    env = dict(os.environ)
    env.update(CANARY_ENV)
    env[INNER_ENV] = "1"
    command = ns + [
        sys.executable,
        "-c",
        MINI_INIT,
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-rA",
        "-p",
        "no:cacheprovider",
        str(Path(__file__).resolve()),
    ]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    report = (done.stdout + done.stderr)[-20000:]
    print(report)
    assert done.returncode == 0, f"hostile suite failed inside the PID namespace:\n{report}"


# ---------------------------------------------------------------- fixtures
def _tier_sandbox(monkeypatch, tier, script, **kw) -> Sandbox:
    monkeypatch.setenv(MAX_TIER_ENV, tier)
    timeouts = {"soft_timeout_s": SOFT, "hard_timeout_s": HARD, "load_timeout_s": LOAD}
    timeouts.update(kw)
    try:
        return Sandbox(HOSTILE / script, min_tier=tier, **timeouts)
    except SandboxUnavailable:
        reason = probe_report()["reasons"].get(tier, "unavailable")
        required = os.environ.get(REQUIRE_ENV, "").strip().upper()
        if required in TIERS and TIERS.index(tier) >= TIERS.index(required):
            pytest.fail(f"tier {tier} unavailable ({reason}) but {REQUIRE_ENV}={required}")
        if tier == "A":
            pytest.skip(f"tier A unavailable ({reason}); install it: apt-get install -y bubblewrap")
        pytest.skip(f"tier {tier} unavailable here: {reason}")


@pytest.fixture(params=TIERS)
def tier(request):
    return request.param


@pytest.fixture
def open_sandbox(monkeypatch, tier):
    opened: list[Sandbox] = []

    def make(script, **kw) -> Sandbox:
        sandbox = _tier_sandbox(monkeypatch, tier, script, **kw)
        opened.append(sandbox)
        return sandbox

    yield make
    for sandbox in opened:
        sandbox.close()


@pytest.fixture
def scratch():
    """A world-writable dir (0777, like /tmp but ours), so only the sandbox can stop writes."""
    path = Path(tempfile.mkdtemp(prefix="autoheal-hostile-", dir="/tmp"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def canary_project():
    """A world-readable fake project (config, .env, ground truth, cache), as a repo would be."""
    path = Path(tempfile.mkdtemp(prefix="autoheal-canary-project-", dir="/tmp"))
    path.chmod(0o755)
    (path / "config.yaml").write_text(f"api_key: {CANARY}\n")
    (path / ".env").write_text(f"ANTHROPIC_API_KEY={CANARY}\n")
    (path / "ground_truth.csv").write_text(
        f"STORE_ID,RAW_DOM,GROUND_TRUTH_ORDER_ID\ns,<html/>,{CANARY}\n"
    )
    (path / "cache").mkdir(mode=0o755)
    (path / "cache" / "reply.json").write_text(json.dumps({"key": CANARY}))
    for item in path.rglob("*"):
        item.chmod(0o755 if item.is_dir() else 0o644)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _page(n: int) -> str:
    return f"<html><head><title>ok-{n}</title></head><body>Order #{n}</body></html>"


def _attack(sandbox: Sandbox, params: dict | None = None, prefix: str = "ATTACK"):
    return sandbox.extract(prefix + json.dumps(params or {}))


def _next_pages_work(sandbox: Sandbox, count: int = 2) -> None:
    for n in range(count):
        result = sandbox.extract(_page(n))
        assert result.error_kind is None, f"next page failed: {result.error_kind}: {result.error}"
        assert result.value["TITLE"] == f"ok-{n}"


def _slot_processes(wait_s: float = 2.0) -> list[int]:
    """Live (non-zombie) processes in this PID namespace running under a sandbox slot uid.

    SIGKILLed sandbox processes die asynchronously, and the mini-init does not reap, so zombies
    are ignored and live ones get ``wait_s`` to go away.
    """
    deadline = time.monotonic() + wait_s
    while True:
        found = []
        for status in glob.glob("/proc/[0-9]*/status"):
            with contextlib.suppress(OSError), open(status) as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
            if (
                fields
                and fields["State"].split()[0] not in "ZX"
                and int(fields["Uid"].split()[0]) in SLOT_UIDS
            ):
                found.append(int(status.split("/")[2]))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _uncontained_in_c(request, tier: str, what: str, run: bool = True, strict: bool = True):
    if tier != "C":
        return
    reason = f"tier C (rlimits + scrubbed env only) does not contain {what}"
    if not run:
        pytest.skip(reason + "; not run as root without containment")
    request.applymarker(pytest.mark.xfail(strict=strict, reason=reason))


# ---------------------------------------------------------------- the attacks
@hostile
def test_00_benign_control(open_sandbox, tier):
    sandbox = open_sandbox("00_benign.py")
    assert sandbox.tier == tier
    result = sandbox.extract(_page(7))
    assert result.error_kind is None, result.error
    assert result.value == {"TITLE": "ok-7", "ORDER_ID": "7", "ITEMS": "3", "RATE": "1.5"}
    assert result.output.strip() == "benign ran"
    assert 0 < result.latency_ms < 1000


@hostile
def test_01_infinite_loop(open_sandbox):
    sandbox = open_sandbox("01_infinite_loop.py")
    result = _attack(sandbox)
    assert result.error_kind == "timeout" and "soft" in result.error
    assert result.latency_ms < HARD * 1000
    _next_pages_work(sandbox)
    assert sandbox.restarts == 0


@hostile
def test_02_sleep(open_sandbox):
    sandbox = open_sandbox("02_sleep.py")
    result = _attack(sandbox)
    assert result.error_kind == "timeout" and "soft" in result.error
    _next_pages_work(sandbox)
    assert sandbox.restarts == 0


@hostile
def test_03_ignore_sigalrm_spin(open_sandbox):
    sandbox = open_sandbox("03_ignore_sigalrm_spin.py")
    started = time.monotonic()
    result = _attack(sandbox)
    assert result.error_kind == "timeout" and "hard" in result.error
    assert time.monotonic() - started < HARD + 1.0
    assert sandbox.restarts == 1
    _next_pages_work(sandbox)


@hostile
def test_04_memory_bomb(open_sandbox):
    sandbox = open_sandbox("04_memory_bomb.py")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = _attack(sandbox)
    assert result.error_kind in ("exception", "crash", "timeout"), result
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB
    _next_pages_work(sandbox)


@hostile
def test_05_fork_bomb(open_sandbox, tier, request):
    _uncontained_in_c(
        request, tier, "a fork bomb (RLIMIT_NPROC is not enforced for root)", run=False
    )
    sandbox = open_sandbox("05_fork_bomb.py")
    result = _attack(sandbox)
    if result.value is not None:
        assert result.value["FORKS"] == "0", result.value
    _next_pages_work(sandbox)
    sandbox.close()
    assert _slot_processes() == []


@hostile
def test_06_thread_bomb(open_sandbox):
    sandbox = open_sandbox("06_thread_bomb.py")
    result = _attack(sandbox)
    if result.value is not None:
        assert int(result.value["THREADS"]) < 5000, result.value
    _next_pages_work(sandbox)


@hostile
def test_07_double_fork_orphan(open_sandbox, tier, request, scratch):
    _uncontained_in_c(request, tier, "a setsid'd orphan (no PID namespace, no uid sweep)")
    heartbeat = scratch / "heartbeat"
    sandbox = open_sandbox("07_double_fork_orphan.py")
    result = _attack(sandbox, {"heartbeat": str(heartbeat)})
    _next_pages_work(sandbox)
    sandbox.close()
    time.sleep(0.3)
    first = heartbeat.stat().st_mtime_ns if heartbeat.exists() else None
    time.sleep(0.3)
    last = heartbeat.stat().st_mtime_ns if heartbeat.exists() else None
    assert first == last, f"an orphan outlived the sandbox ({result.value})"
    assert _slot_processes() == []


@hostile
def test_08_os_system_subprocess(open_sandbox, tier, request, scratch):
    _uncontained_in_c(request, tier, "running programs")
    marker = scratch / "SBX_ESCAPE_08"
    sandbox = open_sandbox("08_os_system.py")
    result = _attack(sandbox, {"marker": str(marker)})
    assert list(scratch.glob("SBX_ESCAPE_08*")) == []
    if result.value is not None:
        assert result.value["RAN"] == ""
    _next_pages_work(sandbox)


@hostile
def test_09_read_shadow_root_home_ssh(open_sandbox, tier, request):
    _uncontained_in_c(request, tier, "reads of root-only files (it runs as root)")
    sandbox = open_sandbox("09_read_secrets.py")
    result = _attack(sandbox)
    assert result.error_kind is None, result.error
    assert result.value["READABLE"] == ""
    _next_pages_work(sandbox)


@hostile
def test_10_read_project_config_env_ground_truth(open_sandbox, tier, request, canary_project):
    _uncontained_in_c(request, tier, "reads of the world-readable project tree")
    files = [str(p) for p in canary_project.rglob("*") if p.is_file()]
    files += [
        str(ROOT / name) for name in ("pyproject.toml", "DEVELOPERS.md", "config.yaml", ".env")
    ]
    files += [str(p) for p in (ROOT / "store_data").glob("*.csv*")]
    files = [f for f in files if os.path.exists(f)]
    dirs = [str(canary_project), str(ROOT), str(ROOT / "src"), str(Path.home() / ".cache")]
    sandbox = open_sandbox("10_read_project.py")
    result = _attack(sandbox, {"files": files, "dirs": dirs})
    assert result.error_kind is None, result.error
    assert result.value["READABLE"] == ""
    assert CANARY not in result.output
    _next_pages_work(sandbox)


@hostile
def test_11_api_keys_from_environ(open_sandbox, monkeypatch):
    for key, value in CANARY_ENV.items():
        monkeypatch.setenv(key, value)
    sandbox = open_sandbox("11_environ_keys.py")
    result = _attack(sandbox)
    assert result.error_kind is None, result.error
    assert result.value["FOUND"] == ""
    assert set(result.value["NAMES"].split(",")) <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "PWD",
    }
    _next_pages_work(sandbox)


@hostile
def test_12_proc_pid_environ(open_sandbox, tier, request):
    # strict=False: the canary is only in /proc/<pid>/environ when the launcher set it at exec
    _uncontained_in_c(request, tier, "/proc/<harness>/environ (same uid)", strict=False)
    assert any(CANARY in v for v in os.environ.values()), "run through the launcher test"
    sandbox = open_sandbox("12_proc_environ.py")
    result = _attack(sandbox, {"harness_pid": os.getpid()})
    assert result.error_kind is None, result.error
    assert result.value["CANARY_IN"] == ""
    _next_pages_work(sandbox)


class _Listeners:
    """TCP, UDP, UNIX-file, abstract-UNIX and DNS listeners that record anything they get."""

    def __init__(self, directory: Path) -> None:
        self.got: list[str] = []
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.dns.bind(("127.0.0.1", 0))
        self.unix_path = str(directory / "canary.sock")
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(self.unix_path)
        os.chmod(self.unix_path, 0o777)
        self.unix.listen()
        self.abstract_name = "autoheal-canary-" + secrets.token_hex(4)
        self.abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.abstract.bind("\0" + self.abstract_name)
        self.abstract.listen()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def params(self) -> dict:
        return {
            "tcp_port": self.tcp.getsockname()[1],
            "udp_port": self.udp.getsockname()[1],
            "dns_port": self.dns.getsockname()[1],
            "unix_path": self.unix_path,
            "abstract_name": self.abstract_name,
        }

    def _serve(self) -> None:
        import selectors

        sel = selectors.DefaultSelector()
        for name, sock in (
            ("tcp", self.tcp),
            ("unix", self.unix),
            ("abstract", self.abstract),
            ("udp", self.udp),
            ("dns", self.dns),
        ):
            sel.register(sock, selectors.EVENT_READ, name)
        while not self.stop.is_set():
            for key, _ in sel.select(0.05):
                if key.data in ("udp", "dns"):
                    key.fileobj.recvfrom(4096)
                else:
                    conn, _ = key.fileobj.accept()
                    conn.close()
                self.got.append(key.data)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for sock in (self.tcp, self.udp, self.dns, self.unix, self.abstract):
            sock.close()


@hostile
def test_13_network_tcp_udp_unix_dns(open_sandbox, tier, request, scratch):
    _uncontained_in_c(request, tier, "network access")
    listeners = _Listeners(scratch)
    try:
        sandbox = open_sandbox("13_network.py", soft_timeout_s=1.0, hard_timeout_s=2.0)
        result = _attack(sandbox, listeners.params())
        time.sleep(0.2)
        assert listeners.got == []
        if result.value is not None:
            assert result.value["REACHED"] == ""
        _next_pages_work(sandbox)
    finally:
        listeners.close()


@hostile
def test_14_write_outside_temp_dir(open_sandbox, tier, request, scratch, canary_project):
    _uncontained_in_c(request, tier, "writes outside its temp dir")
    token = secrets.token_hex(4)
    paths = [
        scratch / f"SBX_ESCAPE_{token}",
        canary_project / f"SBX_ESCAPE_{token}",
        Path("/tmp") / f"SBX_ESCAPE_{token}",
        Path("/var/tmp") / f"SBX_ESCAPE_{token}",
        Path("/dev/shm") / f"SBX_ESCAPE_{token}",
    ]
    try:
        sandbox = open_sandbox("14_write_outside.py")
        _attack(sandbox, {"paths": [str(p) for p in paths]})
        assert [str(p) for p in paths if p.exists()] == []
        _next_pages_work(sandbox)
    finally:
        for path in paths:
            with contextlib.suppress(OSError):
                path.unlink()


@hostile
def test_15_delete_files(open_sandbox, tier, request, scratch, canary_project):
    _uncontained_in_c(request, tier, "deleting files")
    victim = scratch / "SBX_DELETE_ME"
    victim.write_text("keep me")
    victim.chmod(0o666)
    victim_dir = scratch / "SBX_DELETE_DIR"
    victim_dir.mkdir()
    victim_dir.chmod(0o777)
    targets = [victim, victim_dir, canary_project / "ground_truth.csv"]
    sandbox = open_sandbox("15_delete_files.py")
    _attack(sandbox, {"paths": [str(p) for p in targets]})
    assert all(p.exists() for p in targets)
    _next_pages_work(sandbox)


@hostile
def test_16_stdout_flood(open_sandbox):
    sandbox = open_sandbox("16_stdout_flood.py", soft_timeout_s=1.0, hard_timeout_s=3.0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = _attack(sandbox)
    assert len(result.output.encode()) <= 64 * 1024 + 200
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB
    _next_pages_work(sandbox)


@hostile
def test_17_patch_clocks_and_forge_frames(open_sandbox):
    sandbox = open_sandbox("17_clock_and_forgery.py")
    result = _attack(sandbox)
    assert result.latency_ms >= 300 or result.error_kind == "protocol", result
    for n in range(3):
        later = sandbox.extract(_page(n))
        assert later.error_kind is None, later.error
        assert later.value == {"TITLE": f"ok-{n}"}
        assert later.latency_ms > 0


@hostile
def test_18_sys_exit_and_keyboard_interrupt(open_sandbox):
    sandbox = open_sandbox("18_sys_exit.py")
    result = sandbox.extract("ATTACK exit")
    assert result.error_kind == "exception" and "SystemExit" in result.error
    result = sandbox.extract("ATTACK kbd")
    assert result.error_kind == "exception" and "KeyboardInterrupt" in result.error
    assert "18_sys_exit.py" in result.traceback
    _next_pages_work(sandbox)
    assert sandbox.restarts == 0


@hostile
def test_19_os_exit(open_sandbox):
    sandbox = open_sandbox("19_os_exit.py")
    result = _attack(sandbox)
    assert result.error_kind == "crash"
    _next_pages_work(sandbox)


@hostile
def test_20_segfault(open_sandbox):
    sandbox = open_sandbox("20_segfault.py")
    result = _attack(sandbox)
    assert result.error_kind == "crash" and "SIGSEGV" in result.error
    _next_pages_work(sandbox)


@hostile
def test_21_kill_parent_group_and_everything(open_sandbox, tier, request):
    _uncontained_in_c(request, tier, "kill(-1) as root", run=False)
    victim = subprocess.Popen(["sleep", "60"])
    try:
        sandbox = open_sandbox("21_kill_harness.py")
        result = _attack(sandbox, {"harness_pid": os.getpid(), "victim_pid": victim.pid})
        time.sleep(0.1)
        assert victim.poll() is None, "the victim process was killed"
        if result.value is not None:
            assert result.value["SENT"] == ""
        _next_pages_work(sandbox)
    finally:
        victim.kill()
        victim.wait()


@hostile
def test_22_mount_ptrace_setns_userns(open_sandbox, tier, request):
    _uncontained_in_c(request, tier, "privileged operations as root", run=False)
    sandbox = open_sandbox("22_root_ops.py")
    result = _attack(sandbox, {"harness_pid": os.getpid()})
    assert result.error_kind is None, result.error
    assert result.value["DONE"] == ""
    _next_pages_work(sandbox)


@hostile
def test_23_disk_fill_many_small_files(open_sandbox, tier, request):
    _uncontained_in_c(request, tier, "filling the host disk below RLIMIT_FSIZE", run=False)
    sandbox = open_sandbox("23_disk_fill.py", soft_timeout_s=1.0, hard_timeout_s=3.0)
    try:
        result = _attack(sandbox)
        if result.value is not None:
            limit = 64 if tier == "A" else 0  # A: 64 MiB tmpfs; B: nothing is writable
            assert int(result.value["WRITTEN_MB"]) <= limit, result.value
        assert (
            glob.glob("/tmp/SBX_FILL_*")
            + glob.glob("/var/tmp/SBX_FILL_*")
            + glob.glob("/dev/shm/SBX_FILL_*")
            == []
        )
        _next_pages_work(sandbox)
    finally:
        for path in (
            glob.glob("/tmp/SBX_FILL_*")
            + glob.glob("/var/tmp/SBX_FILL_*")
            + glob.glob("/dev/shm/SBX_FILL_*")
        ):
            os.unlink(path)


@hostile
def test_24_evil_return_values(open_sandbox, scratch):
    marker = scratch / "SBX_PICKLE_RAN"
    sandbox = open_sandbox("24_evil_returns.py")
    for kind in ("pickle", "pickle_root", "big", "deep", "hugeint", "notdict"):
        result = _attack(sandbox, {"kind": kind, "marker": str(marker)})
        assert result.error_kind == "bad_result", (kind, result.error_kind, result.error)
        assert result.value is None
    result = _attack(sandbox, {"kind": "streq"})
    assert result.value == {"TITLE": "x", "KEY": "v"}
    assert all(type(k) is str and type(v) is str for k, v in result.value.items())
    assert result.value["TITLE"] != "anything"
    result = _attack(sandbox, {"kind": "lyingdict"})
    assert result.value == {"TITLE": "real"}
    assert not marker.exists()
    _next_pages_work(sandbox)


@hostile
@pytest.mark.parametrize("script", ["25_import_hang.py", "25b_import_hang_blocked.py"])
def test_25_hang_at_import(open_sandbox, script):
    started = time.monotonic()
    sandbox = open_sandbox(script)
    result = sandbox.extract(_page(1))
    assert result.error_kind == "load" and "load timeout" in result.error
    assert time.monotonic() - started < LOAD + 4.0
    again = time.monotonic()
    assert sandbox.extract(_page(2)).error_kind == "load"
    assert time.monotonic() - again < 0.1  # the load failure is remembered, not retried
    sandbox.close()
    _next_pages_work(open_sandbox("00_benign.py"))


@hostile
def test_sandbox_files_are_not_world_writable():
    """The worker bootstrap is trusted code: nobody but root may change it."""
    package = ROOT / "src" / "autoheal" / "sandbox"
    for path in package.glob("*.py"):
        assert not path.stat().st_mode & stat.S_IWOTH, path

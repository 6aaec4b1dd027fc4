"""Faults and interruptions (issue 8): real Snakemake on a small copy of the demo data, with
``synth`` next to two vendors served by fake servers on 127.0.0.1 (cascade off).

* SIGINT (to the process group, like Ctrl-C) and SIGKILL (of snakemake alone, and of the whole
  group, like the OOM killer or a lost node) at seeded random points: the documented resume
  (plain rerun; after a SIGKILL ``snakemake --unlock`` first, see README *Troubleshooting*)
  completes, its results equal an uninterrupted run's, and no model call is repeated except one
  that was in flight when the kill came (its answer never arrived, so it cannot be reused).
* Writes are atomic: every write in the code goes through ``autoheal.io.atomic_write_*`` (or an
  equivalent temp-file + rename), a write killed half way leaves the old file or none, and a job
  killed half way through its loop is rerun, never taken as done.
* One store's model answers garbage, another's script hangs on a page, a third's pages crash the
  script's parser: each is recorded in that store's outputs and every store finishes.
* A second snakemake on the same directory is refused with Snakemake's lock message.
* A full disk under ``results/`` stops the run with a clear error; after freeing space, a rerun
  completes.
"""

from __future__ import annotations

import ast
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakeservers import FakeServer, garbage, hang, ok
from faultkit import (
    ACCOUNTING_COLUMNS,
    CANARIES,
    TIMING_COLUMNS,
    comparable,
    fence,
    final_scripts,
    healing_responder,
    read_tsv,
    small_demo,
    start,
    wait_group,
    write_config,
)
from snakerun import ROOT, copy_workflow, run

STORES = ["brightleaf_garden", "sundial_crafts", "tidewater_books"]
MODELS = ["synth", "claude_fast", "openai_fast"]
VENDORS = {"claude_fast": "anthropic", "openai_fast": "openai"}
TARGET = "results/summary.tsv"
LOCK_MESSAGE = "Directory cannot be locked"
IN_FLIGHT_GRACE_S = 1.0  # server answered -> client parsed it and wrote the reply cache


def sm(work: Path, *args: str, check: bool = True):
    """snakemake in ``work`` with canary API keys (the vendor models need a key to be set)."""
    return run(work, *args, check=check, env=CANARIES)


@dataclass
class Servers:
    """Fake vendor servers that also time-stamp every prompt they answer."""

    info: dict
    special: object = None
    seen: list = field(default_factory=list)  # (monotonic time, prompt)

    def __post_init__(self):
        self.by_vendor = {v: FakeServer(v).start() for v in VENDORS.values()}
        for vendor, server in self.by_vendor.items():
            server.responder = self._timed(healing_responder(vendor, self.info, special=self.special))

    def _timed(self, inner):
        def answer(prompt):
            self.seen.append((time.monotonic(), prompt))
            return inner(prompt)

        return answer

    @property
    def count(self) -> int:
        return sum(s.count for s in self.by_vendor.values())

    def stop(self):
        for server in self.by_vendor.values():
            server.stop()


@dataclass
class Reference:
    work: Path
    seconds: float
    requests: int
    prompts: collections.Counter


def results_of(work: Path) -> dict:
    store_files = {}
    for path in sorted((work / "results" / "stores").rglob("*")):
        if path.name in ("script.py", "prompt.txt"):
            store_files[str(path.relative_to(work))] = path.read_text(encoding="utf-8")
    ignore = TIMING_COLUMNS | ACCOUNTING_COLUMNS
    return {
        "summary": comparable(read_tsv(work / "results" / "summary.tsv"), ignore),
        "candidates": comparable(read_tsv(work / "results" / "candidates.tsv"), ignore),
        "finals": final_scripts(work),
        "iteration_files": store_files,
    }


def no_partial_outputs(work: Path) -> None:
    """Every JSON/TSV output that exists is complete (atomic writes); temp files are hidden."""
    for path in (work / "results").rglob("*"):
        if path.is_file() and path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        if path.is_file() and path.name.endswith(".tmp"):
            assert path.name.startswith("."), path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("reference"))
    info = small_demo(work / "data.csv", STORES)
    servers = Servers(info)
    try:
        config = write_config(work, servers.by_vendor, MODELS)
        begin = time.monotonic()
        sm(work, TARGET, "--configfile", config)
        seconds = time.monotonic() - begin
    finally:
        servers.stop()
    prompts = collections.Counter(p for _, p in servers.seen)
    assert servers.count == len(STORES) * len(VENDORS) * 2  # iteration 0 and 1 per vendor
    return Reference(work, seconds, servers.count, prompts)


def interrupt_and_resume(tmp_path, reference: Reference, how: list[str], seed: int) -> dict:
    """Start the run, kill it as ``how`` says at seeded random times, then resume as the README
    says.  Returns what happened (kill times, lock messages, model calls)."""
    rng = random.Random(seed)
    work = copy_workflow(tmp_path / "project")
    shutil.copy2(reference.work / "data.csv", work / "data.csv")
    info = small_demo(tmp_path / "scratch.csv", STORES)
    servers = Servers(info)
    report = {"kills": [], "lock_refused": 0, "unlocked": 0}
    try:
        config = write_config(work, servers.by_vendor, MODELS)
        for attempt, kind in enumerate(how):
            delay = rng.uniform(1.5, max(3.0, 0.5 * reference.seconds))
            proc = start(work, TARGET, "--configfile", config, log=work / f"attempt{attempt}.out")
            # Count the delay from when the run holds its lock: Snakemake's start-up time varies
            # by machine (an installed SLURM client with no controller adds ~9 s to every start).
            locks = work / ".snakemake" / "locks"
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline and not (
                locks.exists() and any(locks.iterdir())
            ):
                time.sleep(0.05)
            try:
                proc.wait(timeout=delay)
                report["kills"].append((kind, round(delay, 2), "finished before the kill"))
                continue
            except subprocess.TimeoutExpired:
                pass
            killed_at = time.monotonic()
            if kind == "SIGINT":  # Ctrl-C: the terminal signals the whole foreground group
                os.killpg(proc.pid, signal.SIGINT)
            elif kind == "SIGKILL":  # kill -9 <snakemake>: its running jobs live on, orphaned
                os.kill(proc.pid, signal.SIGKILL)
            else:  # "SIGKILL-group": the OOM killer or a lost node takes everything
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=120)
            assert wait_group(proc.pid, 120), "jobs of the killed run did not end"
            report["kills"].append((kind, round(delay, 2), killed_at))
            no_partial_outputs(work)
            locks = work / ".snakemake" / "locks"
            if locks.exists() and any(locks.iterdir()):
                assert kind != "SIGINT", "Ctrl-C must release Snakemake's lock"
                if not report["lock_refused"]:  # the plain rerun is refused, naming --unlock ...
                    refused = sm(work, TARGET, "--configfile", config, check=False)
                    assert refused.returncode != 0
                    assert LOCK_MESSAGE in refused.stdout + refused.stderr
                    assert "--unlock" in refused.stdout + refused.stderr
                    report["lock_refused"] += 1
                sm(work, "--unlock", TARGET, "--configfile", config)  # ... so unlock
                report["unlocked"] += 1
        sm(work, TARGET, "--configfile", config)
    finally:
        servers.stop()
    kill_times = [k[2] for k in report["kills"] if isinstance(k[2], float)]
    # Model calls: the same prompts as the uninterrupted run; a prompt is sent again only when
    # its first request was in flight at a kill (the answer never reached the reply cache).
    sent = collections.Counter(p for _, p in servers.seen)
    if set(sent) != set(reference.prompts):  # keep both sides for the failure report
        (tmp_path / "extra_prompts.json").write_text(json.dumps(sorted(set(sent) - set(reference.prompts))))
        (tmp_path / "missing_prompts.json").write_text(json.dumps(sorted(set(reference.prompts) - set(sent))))
    assert set(sent) == set(reference.prompts), tmp_path
    in_flight = [(t, p) for t, p in servers.seen if any(t <= k <= t + IN_FLIGHT_GRACE_S for k in kill_times)]
    repeated = sum(sent.values()) - sum(reference.prompts.values())
    assert repeated <= len(in_flight), (repeated, in_flight)
    for prompt, count in sent.items():
        assert count <= reference.prompts[prompt] + sum(1 for _, p in in_flight if p == prompt)
    report.update(requests=servers.count, reference_requests=reference.requests, repeated=repeated,
                  in_flight=len(in_flight))
    assert results_of(work) == results_of(reference.work)
    calls = sum(int(r["calls"]) for r in read_tsv(work / "results" / "summary.tsv"))
    report["calls_in_summary"] = calls
    assert calls <= reference.requests
    print(f"\n{how}: {report}")
    return report


# ----------------------------------------------------------------------------- interruptions
@pytest.mark.slow
def test_sigint_at_random_points_then_rerun_equals_an_uninterrupted_run(tmp_path, reference):
    report = interrupt_and_resume(tmp_path, reference, ["SIGINT", "SIGINT"], seed=8)
    assert report["unlocked"] == 0  # Ctrl-C needs no --unlock


@pytest.mark.slow
def test_sigkill_at_random_points_then_unlock_and_rerun_equals_an_uninterrupted_run(tmp_path, reference):
    report = interrupt_and_resume(tmp_path, reference, ["SIGKILL", "SIGKILL-group"], seed=88)
    killed = [k for k in report["kills"] if isinstance(k[2], float)]
    assert report["unlocked"] == len(killed)  # every kill -9 of snakemake left its lock behind


# ------------------------------------------------------------------------------ atomic writes
ATOMIC_IMPLEMENTATIONS = {
    "io.py": "the atomic_write_* helpers themselves",
    "models/cache.py": "reply cache: its own temp file + fsync + os.replace",
    "synthetic.py": "writes a temp file and os.replace()s it",
    "logs.py": "the job's log stream (a log, not an output anything is read back from)",
}
WRITE_METHODS = {"to_csv", "to_json", "to_parquet", "to_excel", "to_html", "to_feather"}


def _writes_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "open" and not (isinstance(func, ast.Attribute) and getattr(func.value, "id", "") in ("gzip", "os")):
            mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
            if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and not set(mode.value) & set("wax+"):
                continue
            if mode is None:
                continue  # read mode
            found.append(f"{path.name}:{node.lineno} open(..., {ast.unparse(mode)})")
        elif name in ("fdopen", "write_text", "write_bytes", "savetxt"):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(func)}(...)")
        elif name.startswith("to_") and name in WRITE_METHODS and (
            node.args or any(k.arg == "path_or_buf" for k in node.keywords)
        ):  # DataFrame.to_csv(path); without a path it returns a string
            found.append(f"{path.name}:{node.lineno} {ast.unparse(func)}(...)")
        elif name in ("copy", "copy2", "copyfile", "move") and len(node.args) >= 2:  # shutil.*
            found.append(f"{path.name}:{node.lineno} {ast.unparse(func)}(...)")
        elif name in ("rename", "save") and node.args:  # os.rename/Path.rename, figure.save(path)
            found.append(f"{path.name}:{node.lineno} {ast.unparse(func)}(...)")
        elif name == "dump" and len(node.args) >= 2:  # json.dump(obj, handle)
            found.append(f"{path.name}:{node.lineno} {ast.unparse(func)}(...)")
    return found


def test_every_write_goes_through_an_atomic_helper():
    src = ROOT / "src" / "autoheal"
    offenders = {}
    for path in sorted([*src.rglob("*.py"), *(ROOT / "scripts").glob("*.py")]):
        rel = path.relative_to(src).as_posix() if path.is_relative_to(src) else f"scripts/{path.name}"
        if rel in ATOMIC_IMPLEMENTATIONS or rel.startswith(("sandbox/", "synth/codegen")):
            continue  # sandbox: pipes to the worker; codegen: text of generated scripts
        writes = _writes_in(path)
        if writes:
            offenders[rel] = writes
    assert offenders == {}, "write outputs with autoheal.io.atomic_write_*: " + json.dumps(offenders, indent=1)


KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from autoheal import io
    real_fsync = os.fsync
    def slow_fsync(fd):  # the data is written, not yet renamed into place: die here
        print("writing", flush=True)
        time.sleep(60)
    io.os.fsync = slow_fsync
    io.atomic_write_text(sys.argv[1], "NEW " * 500_000)
    """
)


def test_a_write_killed_half_way_leaves_the_old_file_not_a_partial_one(tmp_path):
    target = tmp_path / "out" / "train.json"
    target.parent.mkdir()
    target.write_text('{"old": true}\n')
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"writing\n"
    proc.kill()
    proc.wait(timeout=30)
    assert target.read_text() == '{"old": true}\n'
    leftovers = [p.name for p in target.parent.iterdir() if p != target]
    assert len(leftovers) == 1 and leftovers[0].startswith(".train.json.") and leftovers[0].endswith(".tmp")


@pytest.mark.slow
def test_a_job_killed_mid_loop_is_rerun_not_taken_as_done(tmp_path):
    """Iteration 0 of (store, claude_fast) is written, iteration 1's model call hangs: kill -9
    everything.  The half-written store job's outputs are not taken as done: the rerun (after
    --unlock) plans that job again and restores iteration 0 from the iteration cache."""
    work = copy_workflow(tmp_path / "project")
    info = small_demo(work / "data.csv", ["brightleaf_garden"])
    hung = []

    def special(vendor, store, iteration):
        if iteration == 1 and not hung:
            hung.append(time.monotonic())
            return hang(60)
        return None

    servers = Servers(info, special=special)
    try:
        config = write_config(work, servers.by_vendor, ["synth", "claude_fast"])
        proc = start(work, TARGET, "--configfile", config)
        deadline = time.monotonic() + 120
        while not hung and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hung, (work / "snakemake.out").read_text()[-3000:]
        iter_dir = work / "results" / "stores" / "brightleaf_garden" / "claude_fast"
        assert (iter_dir / "iter0" / "test.json").exists() and not (iter_dir / "iter1" / "test.json").exists()
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        assert wait_group(proc.pid, 60)
        no_partial_outputs(work)
        sm(work, "--unlock", TARGET, "--configfile", config)
        dry = sm(work, "-n", TARGET, "--configfile", config)
        assert "heal_store" in dry.stdout and "store=brightleaf_garden" in dry.stdout
        before = servers.count
        sm(work, TARGET, "--configfile", config)
        assert servers.count == before + 1  # only the call that never got its answer
        log = (work / "logs" / "heal_store" / "brightleaf_garden.log").read_text()
        assert "claude_fast iteration 0:" in log and "(restored)" in log
        assert (iter_dir / "iter1" / "test.json").exists()
    finally:
        servers.stop()


# --------------------------------------------------------------------- one bad store, the rest
DEEP = 30_000


def crashy_page(i: int) -> tuple[str, dict]:
    order, sub = f"CR-{700 + i}", f"{11 + i}.50"
    html = (
        "<html><body>\x00\x01<!-- unterminated" if i == 0 else "<html><body>\x00\x01"
    ) + ("<div>" * DEEP) + f"<p>Order <b id='o'>{order}</b> Subtotal <i id='s'>${sub}</i></p>" + (
        "</div>" * (DEEP // 2)
    )
    return html, {"ORDER_ID": order, "SUBTOTAL": sub}


HANG_ON_ONE_PAGE = """
{tag}
{script}
_inner = extract

def extract(html):
    if {marker!r} in html:
        while True:
            pass
    return _inner(html)
"""
CRASH_THE_PARSER = """
{tag}
import sys
sys.setrecursionlimit(10_000_000)


def _depth(html, at=0, depth=0):  # a recursive-descent 'parser' (through C: map)
    at = html.find("<div>", at)
    return depth if at < 0 else list(map(lambda a: _depth(html, a + 5, depth + 1), [at]))[0]


def extract(html):
    _depth(html)  # deep pages blow the C stack: the worker dies with SIGSEGV
    return {{}}
"""


@pytest.mark.slow
def test_garbage_reply_hanging_script_and_crashing_pages_stay_in_their_store(tmp_path):
    work = copy_workflow(tmp_path / "project")
    stores = ["brightleaf_garden", "sundial_crafts", "tidewater_books", "crashy_shop"]
    info = small_demo(work / "data.csv", stores, pages=4, extra={"crashy_shop": [crashy_page(i) for i in range(4)]})

    def special(vendor, store, iteration):
        if store == "sundial_crafts" and iteration == 0:  # garbage: broken JSON / broken code
            if vendor == "anthropic":
                return garbage()
            return ok(fence(f"# autoheal-test store={store};\ndef extract(html:\n    return {{"))
        if store == "tidewater_books" and iteration == 0:
            code = HANG_ON_ONE_PAGE.format(tag=f"# autoheal-test store={store};", script=info[store].script,
                                           marker=info[store].marker)
            return ok(fence(code))
        if store == "crashy_shop" and iteration == 0:
            return ok(fence(CRASH_THE_PARSER.format(tag=f"# autoheal-test store={store};")))
        return None

    servers = Servers(info, special=special)
    try:
        config = write_config(work, servers.by_vendor, MODELS, sandbox_soft_timeout_s=0.5,
                              sandbox_hard_timeout_s=1.5)
        proc = sm(work, TARGET, "--configfile", config)
    finally:
        servers.stop()
    assert "Error in rule" not in proc.stdout + proc.stderr
    summary = {r["store_id"]: r for r in read_tsv(work / "results" / "summary.tsv")}
    assert set(summary) == set(stores)
    assert summary["brightleaf_garden"]["status"] == "healed"

    def iteration(store, model, n, split="train"):
        return json.loads((work / "results" / "stores" / store / model / f"iter{n}" / f"{split}.json").read_text())

    garbage_reply = iteration("sundial_crafts", "claude_fast", 0)
    assert garbage_reply["generation"]["status"] == "error" and garbage_reply["generation"]["reason"]
    broken_code = iteration("sundial_crafts", "openai_fast", 0)
    assert broken_code["results"] and all(r["error_kind"] == "load" for r in broken_code["results"])
    assert summary["sundial_crafts"]["status"] == "healed" and summary["sundial_crafts"]["model"] != "openai_fast"

    hanging = iteration("tidewater_books", "claude_fast", 0)
    kinds = [r["error_kind"] for r in hanging["results"]]
    assert kinds.count("timeout") == 1 and kinds.count(None) == len(kinds) - 1, kinds

    crashed = iteration("crashy_shop", "claude_fast", 0)
    assert crashed["results"] and all(r["error_kind"] == "crash" for r in crashed["results"]), crashed["results"]
    assert summary["crashy_shop"]["status"] in ("healed", "below_target", "no_script")
    assert int(summary["crashy_shop"]["samples"]) == 4


# ------------------------------------------------------------------------------ concurrency
@pytest.mark.slow
def test_a_second_run_on_the_same_directory_is_refused_with_the_lock_message(tmp_path):
    work = copy_workflow(tmp_path / "project")
    info = small_demo(work / "data.csv", ["brightleaf_garden"])
    started = []

    def special(vendor, store, iteration):
        if iteration == 0 and not started:
            started.append(1)
            return hang(25)  # longer than any Snakemake start-up of the second run
        return None

    servers = Servers(info, special=special)
    try:
        config = write_config(work, servers.by_vendor, ["synth", "claude_fast"])
        first = start(work, TARGET, "--configfile", config)
        deadline = time.monotonic() + 120
        while not started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started
        second = sm(work, TARGET, "--configfile", config, check=False)
        assert second.returncode != 0
        assert LOCK_MESSAGE in second.stdout + second.stderr
        assert first.wait(timeout=300) == 0
        rows = read_tsv(work / "results" / "summary.tsv")
        assert [r["store_id"] for r in rows] == ["brightleaf_garden"] and rows[0]["status"] == "healed"
        assert servers.count == 2
    finally:
        servers.stop()


# ------------------------------------------------------------------------------- disk full
def _mount_tmpfs(path: Path, size: str) -> str | None:
    if shutil.which("mount") is None:
        return "mount(8) not found"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    return None if done.returncode == 0 else f"cannot mount a tmpfs here: {done.stderr.strip()}"


@pytest.mark.slow
def test_disk_full_is_a_clear_error_and_a_rerun_after_freeing_space_completes(tmp_path):
    work = copy_workflow(tmp_path / "project")
    small_demo(work / "data.csv", STORES)
    results = work / "results"
    results.mkdir()
    reason = _mount_tmpfs(results, "96k")
    if reason:
        pytest.skip(reason)
    try:
        full = sm(work, TARGET, "--config", "data=data.csv", check=False)
        text = full.stdout + full.stderr
        logs = "".join(p.read_text(errors="replace") for p in (work / "logs").rglob("*.log"))
        assert full.returncode != 0
        assert "No space left on device" in text + logs
        no_partial_outputs(work)
        subprocess.run(["mount", "-o", "remount,size=64m", str(results)], check=True)
        sm(work, TARGET, "--config", "data=data.csv")
        rows = read_tsv(results / "summary.tsv")
        assert sorted(r["store_id"] for r in rows) == sorted(STORES)
        assert all(r["status"] == "healed" for r in rows)
    finally:
        subprocess.run(["umount", "-l", str(results)], capture_output=True)

"""Unit tests of the sandbox API (``autoheal.sandbox``) and of ``autoheal check``.

Only well-behaved or merely broken scripts run here; the attack scripts live in
``tests/hostile/`` and run through ``tests/test_hostile.py`` inside a throw-away PID namespace.
Tier-parametrized tests force the tier with ``AUTOHEAL_SANDBOX_MAX_TIER`` and skip where the
machine cannot provide it (tier A needs ``apt-get install -y bubblewrap``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from autoheal.check import main as check_main
from autoheal.sandbox import (
    MAX_TIER_ENV,
    PageResult,
    Sandbox,
    SandboxUnavailable,
    probe_report,
    probe_tier,
)

PAGE = "<html><head><title>Hello</title></head><body><p id='n'>Order #42</p></body></html>"


def _script(tmp_path: Path, body: str, name: str = "script.py") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def _sandbox(monkeypatch, tier: str, script: Path, **kw) -> Sandbox:
    monkeypatch.setenv(MAX_TIER_ENV, tier)
    try:
        return Sandbox(script, min_tier=tier, **kw)
    except SandboxUnavailable:
        hint = "; apt-get install -y bubblewrap" if tier == "A" else ""
        pytest.skip(f"tier {tier} unavailable: {probe_report()['reasons'].get(tier)}{hint}")


@pytest.fixture(params=["A", "B", "C"])
def tier(request):
    return request.param


BENIGN = """
import re
from lxml import html as lh
COUNT = 0

def extract(html):
    global COUNT
    COUNT += 1
    doc = lh.fromstring(html)
    print("page", COUNT)
    return {"TITLE": doc.findtext(".//title"), "ORDER_ID": int(re.search(r"#(\\d+)", html).group(1)),
            "RATE": 0.5, "FLAG": True, "MISSING": None, "CALLS": COUNT}
"""


def test_benign_script_in_every_tier(monkeypatch, tmp_path, tier):
    with _sandbox(monkeypatch, tier, _script(tmp_path, BENIGN)) as box:
        assert box.tier == tier
        first = box.extract(PAGE)
        second = box.extract(PAGE)
    assert isinstance(first, PageResult)
    assert first.error is None and first.error_kind is None and first.traceback is None
    assert first.value == {
        "TITLE": "Hello",
        "ORDER_ID": "42",
        "RATE": "0.5",
        "FLAG": "True",
        "MISSING": None,
        "CALLS": "1",
    }
    assert second.value["CALLS"] == "2"  # one persistent worker per Sandbox
    assert first.output == "page 1\n" and second.output == "page 2\n"
    assert first.latency_ms > 0


def test_confinement_reported_per_tier(monkeypatch, tmp_path, tier):
    with _sandbox(monkeypatch, tier, _script(tmp_path, BENIGN)) as box:
        report = box.confinement
    if tier in ("A", "B"):
        assert report["landlock"] >= 1 and report["seccomp"] > 0 and report["uid"] >= 100000
    else:
        assert report["landlock"] == 0 and report["seccomp"] == 0


def test_lazy_stdlib_imports_work_after_confinement(monkeypatch, tmp_path, tier):
    body = (
        "def extract(html):\n"
        "    import fractions, statistics, zlib, csv, hashlib\n"
        "    return {'X': str(fractions.Fraction(1, 3)), 'Y': hashlib.md5(b'').hexdigest()[:4]}\n"
    )
    with _sandbox(monkeypatch, tier, _script(tmp_path, body)) as box:
        result = box.extract("x")
    assert result.value == {"X": "1/3", "Y": "d41d"}, result


def test_probe_is_cached_and_capped(monkeypatch):
    monkeypatch.delenv(MAX_TIER_ENV, raising=False)
    best = probe_tier()
    started = time.perf_counter()
    assert probe_tier() == best
    assert time.perf_counter() - started < 0.05
    monkeypatch.setenv(MAX_TIER_ENV, "C")
    assert probe_tier() == "C"
    assert "AUTOHEAL_SANDBOX_MAX_TIER" in probe_report()["reasons"]["A"]


def test_min_tier_unmet_raises_before_running(monkeypatch, tmp_path):
    marker = tmp_path / "ran"
    script = _script(
        tmp_path, f"open({str(marker)!r}, 'w').close()\ndef extract(h):\n    return {{}}\n"
    )
    monkeypatch.setenv(MAX_TIER_ENV, "C")
    with pytest.raises(SandboxUnavailable, match=r"tier C .*sandbox_min_tier is A"):
        Sandbox(script, min_tier="A")
    assert not marker.exists()
    with pytest.raises(ValueError, match="sandbox_min_tier"):
        Sandbox(script, min_tier="Z")


def test_tier_c_warns_loudly(monkeypatch, tmp_path, caplog, capsys):
    with caplog.at_level(logging.WARNING, logger="autoheal.sandbox"):
        with _sandbox(monkeypatch, "C", _script(tmp_path, BENIGN)):
            pass
    assert "tier C" in caplog.text
    assert "tier C" in capsys.readouterr().err


def test_exception_gives_traceback_and_worker_survives(monkeypatch, tmp_path):
    body = (
        "def helper(x):\n    return int(x)\n\ndef extract(html):\n    return {'N': helper(html)}\n"
    )
    with _sandbox(monkeypatch, "C", _script(tmp_path, body, "broken.py")) as box:
        bad = box.extract("not a number")
        good = box.extract("12")
        assert box.restarts == 0
    assert bad.error_kind == "exception" and bad.value is None
    assert bad.error.startswith("ValueError: invalid literal") and "\n" not in bad.error
    assert 'File "broken.py", line 2, in helper' in bad.traceback
    assert "return int(x)" in bad.traceback  # source lines although the file is not readable inside
    assert "worker.py" not in bad.traceback
    assert good.value == {"N": "12"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("x = 1\n", "no callable extract"),
        ("extract = 3\n", "no callable extract"),
        ("def extract(html):\n  return {\n", "SyntaxError"),
        ("import no_such_module_xyz\n", "import failed: ModuleNotFoundError"),
        ("raise SystemExit(4)\n", "import failed: SystemExit"),
    ],
)
def test_load_failures_are_results(monkeypatch, tmp_path, body, message):
    with _sandbox(monkeypatch, "C", _script(tmp_path, body)) as box:
        first = box.extract(PAGE)
        started = time.perf_counter()
        second = box.extract(PAGE)
    assert first.error_kind == "load" and message in first.error
    assert second.error_kind == "load" and time.perf_counter() - started < 0.05


def test_unreadable_script_is_a_load_failure(monkeypatch, tmp_path):
    with _sandbox(monkeypatch, "C", tmp_path / "missing.py") as box:
        result = box.extract(PAGE)
    assert result.error_kind == "load" and "cannot read script" in result.error


@pytest.mark.parametrize(
    ("ret", "message"),
    [
        ("['a']", "extract returned list, not dict"),
        ("None", "extract returned NoneType, not dict"),
        ("{'A': ['x']}", "field 'A': list is not str"),
        ("{1: 'x'}", "result key of type int is not str"),
        ("{'A': {'b': 1}}", "field 'A': dict is not str"),
        ("{'A': 'x' * (5 << 20)}", "result too large"),
    ],
)
def test_bad_results(monkeypatch, tmp_path, ret, message):
    body = f"def extract(html):\n    if html == 'bad':\n        return {ret}\n    return {{'A': html}}\n"
    with _sandbox(monkeypatch, "C", _script(tmp_path, body)) as box:
        bad = box.extract("bad")
        good = box.extract("fine")
    assert bad.error_kind == "bad_result" and message in bad.error, bad.error
    assert good.value == {"A": "fine"}


def test_soft_and_hard_timeouts(monkeypatch, tmp_path):
    body = (
        "import signal, time\n"
        "def extract(html):\n"
        "    if html == 'slow':\n"
        "        time.sleep(10)\n"
        "    if html == 'stubborn':\n"
        "        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n"
        "        time.sleep(10)\n"
        "    return {'A': html}\n"
    )
    with _sandbox(
        monkeypatch, "C", _script(tmp_path, body), soft_timeout_s=0.3, hard_timeout_s=0.8
    ) as box:
        soft = box.extract("slow")
        assert box.restarts == 0
        hard = box.extract("stubborn")
        assert box.restarts == 1
        after = box.extract("ok")
    assert soft.error_kind == "timeout" and "soft timeout after 0.3 s" in soft.error
    assert 250 < soft.latency_ms < 800
    assert hard.error_kind == "timeout" and "hard timeout after 0.8 s" in hard.error
    assert 700 < hard.latency_ms < 2000
    assert after.value == {"A": "ok"}


def test_crash_then_restart(monkeypatch, tmp_path):
    body = "import os\nN = 0\ndef extract(html):\n    global N\n    N += 1\n    if html == 'die':\n        os._exit(7)\n    return {'N': N}\n"
    with _sandbox(monkeypatch, "C", _script(tmp_path, body)) as box:
        assert box.extract("a").value == {"N": "1"}
        crash = box.extract("die")
        after = box.extract("a")
    assert crash.error_kind == "crash" and "exit status 7" in crash.error
    assert after.value == {"N": "1"}  # a fresh worker


def test_output_is_capped(monkeypatch, tmp_path):
    body = "import sys\ndef extract(html):\n    sys.stdout.write('z' * 300000)\n    print('err', file=sys.stderr)\n    return {}\n"
    with _sandbox(monkeypatch, "C", _script(tmp_path, body)) as box:
        result = box.extract("x")
    assert result.value == {}
    assert result.output.startswith("z" * 1000)
    assert len(result.output) < 64 * 1024 + 100 and "more bytes of output dropped" in result.output


def test_environment_is_scrubbed(monkeypatch, tmp_path, tier):
    monkeypatch.setenv("OPENAI_API_KEY", "fake-test-secret")
    body = "import os\ndef extract(html):\n    return {k: v for k, v in os.environ.items()}\n"
    with _sandbox(monkeypatch, tier, _script(tmp_path, body)) as box:
        env = box.extract("x").value
    assert "OPENAI_API_KEY" not in env and "fake-test-secret" not in env.values()
    assert set(env) <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "PWD"}


def test_tier_a_has_private_tmp_tier_b_has_none(monkeypatch, tmp_path, tier):
    if tier == "C":
        pytest.skip("tier C writes wherever the user can")
    body = "import tempfile\ndef extract(html):\n    with tempfile.TemporaryFile() as f:\n        f.write(b'x')\n    return {'OK': 'yes'}\n"
    with _sandbox(monkeypatch, tier, _script(tmp_path, body)) as box:
        result = box.extract("x")
    if tier == "A":
        assert result.value == {"OK": "yes"}
    else:
        assert result.error_kind == "exception"


def test_concurrent_sandboxes_get_distinct_uids(monkeypatch, tmp_path):
    script = _script(tmp_path, BENIGN)
    first = _sandbox(monkeypatch, "B", script)
    second = _sandbox(monkeypatch, "B", script)
    try:
        assert first.confinement["uid"] != second.confinement["uid"]
    finally:
        first.close()
        second.close()
    third = _sandbox(monkeypatch, "B", script)  # slots are released on close
    try:
        assert third.confinement["uid"] == first.confinement["uid"]
    finally:
        third.close()


def test_close_kills_worker_and_is_idempotent(monkeypatch, tmp_path, tier):
    box = _sandbox(monkeypatch, tier, _script(tmp_path, BENIGN))
    proc = box._proc.proc
    box.close()
    box.close()
    assert proc.poll() is not None
    with pytest.raises(ValueError, match="closed"):
        box.extract(PAGE)


# ------------------------------------------------------------------------- autoheal check
CSV_HEADER = "STORE_ID,RAW_DOM,GROUND_TRUTH_ORDER_ID,GROUND_TRUTH_TOTAL\n"


def _csv(tmp_path: Path) -> Path:
    rows = []
    for n in range(6):
        html = f"<html><title>Order #{1000 + n}</title><b>Total: ${n}.50</b></html>"
        total = f"{n}.50" if n != 5 else "99.00"  # one page the script gets wrong
        rows.append(f'shop,"{html}",{1000 + n},{total}\n')
    rows.append('other,"<html></html>",1,1.00\n')
    path = tmp_path / "pages.csv"
    path.write_text(CSV_HEADER + "".join(rows))
    return path


CHECK_SCRIPT = """
import re
def extract(html):
    return {"ORDER_ID": re.search(r"#(\\d+)", html).group(1),
            "TOTAL": re.search(r"\\$([\\d.]+)", html).group(1)}
"""


def test_check_scores_and_sets_exit_code(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(MAX_TIER_ENV, "C")
    script = _script(tmp_path, CHECK_SCRIPT)
    data = _csv(tmp_path)
    assert (
        check_main([str(script), "--data", str(data), "--store", "shop", "--min-pass-rate", "80"])
        == 0
    )
    out = capsys.readouterr().out
    assert "tier C" in out and "5/6" in out and "83.3%" in out
    assert "expected '99.00', got '5.50'" in out
    assert (
        check_main([str(script), "--data", str(data), "--store", "shop", "--min-pass-rate", "90"])
        == 1
    )
    assert check_main([str(script), "--data", str(data), "--store", "shop", "--split", "test"]) in (
        0,
        1,
    )
    assert "split: test" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["--data", "{data}"],  # no script
        ["{script}"],  # no --data
        ["{script}", "--data", "{data}"],  # two stores, no --store
        ["{script}", "--data", "{data}", "--store", "nope"],
        ["{script}", "--data", "{tmp}/missing.csv", "--store", "shop"],
        ["{tmp}/missing.py", "--data", "{data}", "--store", "shop"],
        ["{script}", "--data", "{data}", "--store", "shop", "--split", "half"],
        ["{script}", "--data", "{data}", "--store", "shop", "--test-fraction", "1.5"],
    ],
)
def test_check_usage_errors(monkeypatch, tmp_path, args):
    monkeypatch.setenv(MAX_TIER_ENV, "C")
    values = {
        "script": str(_script(tmp_path, CHECK_SCRIPT)),
        "data": str(_csv(tmp_path)),
        "tmp": str(tmp_path),
    }
    assert check_main([a.format(**values) for a in args]) == 2


def test_check_refuses_below_min_tier(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(MAX_TIER_ENV, "C")
    script, data = _script(tmp_path, CHECK_SCRIPT), _csv(tmp_path)
    assert check_main([str(script), "--data", str(data), "--store", "shop", "--min-tier", "B"]) == 2
    assert "sandbox_min_tier" in capsys.readouterr().err

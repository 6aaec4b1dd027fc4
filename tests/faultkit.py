"""Helpers for tests/test_faults.py and tests/test_secrets.py: a small copy of the demo data,
fake-vendor responders that write per-store scripts, snakemake started as its own process group
(so tests can SIGINT/SIGKILL it), and result comparison that ignores timing columns.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from fakeservers import Behaviour, ok
from snakerun import ROOT, SNAKEMAKE

from autoheal.page import Page
from autoheal.samples import build_samples, read_stores
from autoheal.synth import synthesize

FIELDS = ["ORDER_ID", "SUBTOTAL", "TOTAL", "ORDER_DATE"]
CANARIES = {
    "ANTHROPIC_API_KEY": "fake-anthropic-FAULTCANARY-0d9c8b7a6f",
    "OPENAI_API_KEY": "fake-openai-FAULTCANARY-5e4d3c2b1a",
    "GEMINI_API_KEY": "gemini-FAULTCANARY-9a8b7c6d5e",
}
VENDOR_OF = {"claude_fast": "anthropic", "openai_fast": "openai", "gemini_fast": "gemini"}
TAG = "# autoheal-test store="
# Columns that measure time (or money spent by *this* invocation) rather than results.
TIMING_COLUMNS = {"latency_ms"}
ACCOUNTING_COLUMNS = {"calls", "cost_usd", "cached"}


@dataclass(frozen=True)
class StoreInfo:
    store: str
    marker: str  # a train label shown in the store's first prompt (identifies the store)
    script: str  # what synth writes for the store (a working script)


def fence(code: str, text: str = "Here is the script.") -> str:
    return f"{text}\n\n```python\n{code.rstrip()}\n```\n"


def small_demo(path: Path, stores: list[str], pages: int = 6, *, extra: dict | None = None) -> dict:
    """Write ``pages`` rows of each demo store to ``path``; return ``{store: StoreInfo}``.

    ``extra`` maps a store id to a list of ``(html, truth)`` rows appended for that store.
    """
    demo = read_stores(ROOT / "store_data" / "Store_OCP_Data.csv")
    info = {}
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["STORE_ID", "RAW_DOM", *[f"GROUND_TRUTH_{f}" for f in FIELDS]])
        for store in stores:
            rows = [(p.html, p.truth) for p in demo[store][:pages]] if store in demo else []
            rows += list((extra or {}).get(store, []))
            for html, truth in rows:
                writer.writerow([store, html, *[truth.get(f) or "" for f in FIELDS]])
    for store, pages_ in read_stores(path).items():
        doc = build_samples(pages_, store_id=store, fields=FIELDS, test_fraction=0.5, min_samples=2)
        if doc["skipped"]:
            continue
        train = [Page.from_json(p) for p in doc["train"]]
        info[store] = StoreInfo(store, train[0].truth["ORDER_ID"], synthesize(train, FIELDS, doc["types"]))
    return info


def healing_responder(vendor: str, info: dict[str, StoreInfo], *, special=None):
    """First prompt: synth's script with ORDER_ID broken (so the store needs iteration 1);
    improvement prompt: synth's script, correct but 40 ms slower per page than synth's (so
    synth wins every tie deterministically).  ``special(vendor, store, iteration)`` may return a
    ``Behaviour`` that overrides the answer for a store."""

    def answer(prompt: str) -> Behaviour:
        for store, d in info.items():
            tag = f"{TAG}{store};"
            if tag in prompt:  # improvement prompt: the previous script carries the tag
                if special and (b := special(vendor, store, 1)) is not None:
                    return b
                code = (f"# fixed by {vendor}\n{tag}\nimport time as _t\n{d.script}\n"
                        "_inner = extract\n\ndef extract(html):\n    _t.sleep(0.04)\n"
                        "    return _inner(html)\n")
                return ok(fence(code))
        for store, d in info.items():
            if d.marker in prompt:
                if special and (b := special(vendor, store, 0)) is not None:
                    return b
                code = (f"# written by {vendor}\n{TAG}{store};\n{d.script}\n"
                        "_first = extract\n\ndef extract(html):\n    out = _first(html)\n"
                        "    out['ORDER_ID'] = None\n    return out\n")
                return ok(fence(code))
        return ok("I could not find the store in this prompt.")

    return answer


def write_config(work: Path, servers: dict, models: list[str], name: str = "run.yaml", **extra) -> str:
    registry = yaml.safe_load((ROOT / "config.yaml").read_text())["model_registry"]
    overrides = {"data": "data.csv", "models": models, "cascade": False, "max_iterations": 1,
                 "model_registry": {}, **extra}
    for model in models:
        if model in VENDOR_OF:
            server = servers[VENDOR_OF[model]]
            overrides["model_registry"][model] = dict(
                registry[model], base_url=server.base_url, max_attempts=2, retry_base_delay_s=0.01,
                timeout_s=30)
    (work / name).write_text(yaml.safe_dump(overrides))
    return name


def clean_env(keys: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(keys if keys is not None else CANARIES)
    return env


def start(work: Path, *args: str, env: dict | None = None, log: Path | None = None) -> subprocess.Popen:
    """snakemake in its own session (process group id == pid), output to ``log``."""
    out = open(log or work / "snakemake.out", "ab")  # noqa: SIM115 - closed by the caller's wait
    return subprocess.Popen([*SNAKEMAKE, "--cores", "2", *args], cwd=work, env=env or clean_env(),
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Zombies count as dead: look for a live member.
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def wait_group(pgid: int, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return True
        time.sleep(0.1)
    return False


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def read_tsv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def comparable(rows: list[dict], ignore: set[str] = TIMING_COLUMNS) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ignore} for r in rows]


def final_scripts(work: Path) -> dict[str, str]:
    """Final scripts by name, without the header line that carries the latency."""
    out = {}
    for path in sorted((work / "results" / "final").glob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        out[path.name] = "".join(line for line in lines if "median latency" not in line)
    return out


def written_files(root: Path):
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            yield path

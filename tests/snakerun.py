"""Helpers to run the real workflow with Snakemake on a temporary copy of the project."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_FILES = [
    "Snakefile",
    "config.yaml",
    "rules",
    "scripts",
    "prompts",
    "schemas",
    "profiles",
    "envs",
]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
HEADER = ["STORE_ID", "RAW_DOM", "GROUND_TRUTH_ORDER_ID", "GROUND_TRUTH_SUBTOTAL"]


def copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy2(src, dest / name)
    return dest


def store_page(store: str, i: int, variant: str = "") -> list[str]:
    """A small templated order page (same template per store) and its labels."""
    order = f"{store[:1].upper()}{1000 + i * 37}"
    subtotal = f"{10 + i * 3}.{(i * 7) % 100:02d}"
    items = "".join(
        f"<tr><td class='item'>Item {k}</td><td>${k}.00</td></tr>" for k in range(1 + i % 3)
    )
    html = (
        f"<html><body><h1>Thanks{variant}</h1><div id='order-number'>Order #{order}</div>"
        f"<table>{items}<tr><td>Subtotal</td><td id='subtotal'>${subtotal}</td></tr></table>"
        "</body></html>"
    )
    return [store, html, order, subtotal]


def write_data(
    path: Path,
    stores: dict[str, int],
    *,
    edits: dict[str, str] | None = None,
    mislabel: str | None = None,
) -> Path:
    """Write the test CSV; ``mislabel`` gives every page of that store a wrong ORDER_ID label
    on half its pages, so no script can pass them all and every iteration really runs."""
    edits = edits or {}
    rows = []
    for store, n in stores.items():
        for i in range(n):
            row = store_page(store, i, edits.get(store, ""))
            if store == mislabel and i % 2:
                row[2] = f"WRONG{i}"
            rows.append(row)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def run(
    workdir: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run snakemake in ``workdir``; API keys come only from ``env``, never from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")} | (env or {})
    proc = subprocess.run(
        [*SNAKEMAKE, "--cores", "2", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


_RULE = re.compile(r"^(?:local)?rule (\w+):$")
_WILDCARDS = re.compile(r"^\s+wildcards: (.*)$")


def planned(workdir: Path, *args: str) -> list[tuple[str, str]]:
    """The jobs a dry run would execute, as sorted (rule, wildcards) pairs."""
    proc = run(workdir, "-n", *args)
    jobs = []
    current = None
    for line in (proc.stdout + proc.stderr).splitlines():
        match = _RULE.match(line.strip()) if not line.startswith(" ") else None
        if match:
            if current:
                jobs.append(tuple(current))
            current = [match.group(1), ""]
            continue
        wild = _WILDCARDS.match(line)
        if wild and current:
            current[1] = wild.group(1)
    if current:
        jobs.append(tuple(current))
    return sorted(jobs)

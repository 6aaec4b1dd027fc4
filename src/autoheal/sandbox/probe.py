"""Find the best confinement tier this machine supports, once per process.

Why this shape:

* Tiers are defined by what actually works, not by what is installed: tier A runs the very
  bubblewrap command line the runner will use (with ``/bin/true`` as the command, ~15 ms), and
  tiers A and B need a kernel with Landlock and a loadable libseccomp.  The worker re-checks by
  reporting what it applied, and the runner fails closed if that falls short of the tier.
* The result is cached per process (the probe spawns a process; Snakemake jobs run many
  sandboxes) and can be capped with ``AUTOHEAL_SANDBOX_MAX_TIER`` so tests can exercise the
  B and C paths on a machine that has A.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from . import confine, launch

__all__ = ["TIERS", "probe_tier", "probe_report", "tier_rank", "MAX_TIER_ENV"]

TIERS = ("A", "B", "C")
MAX_TIER_ENV = "AUTOHEAL_SANDBOX_MAX_TIER"
_lock = threading.Lock()
_cache: dict[str, dict] = {}


def tier_rank(tier: str) -> int:
    """Lower is stronger: A=0, B=1, C=2."""
    if tier not in TIERS:
        raise ValueError(f"unknown sandbox tier {tier!r} (expected A, B or C)")
    return TIERS.index(tier)


def _probe_bwrap(as_root: bool) -> str | None:
    bwrap = launch.find_bwrap()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        done = subprocess.run(
            launch.bwrap_argv(bwrap, as_root) + ["/bin/true"],
            env=launch.scrubbed_env("/tmp"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to start: {exc}"
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"bwrap does not work here: {message[-1] if message else done.returncode}"
    return None


def _probe() -> dict:
    reasons: dict[str, str] = {}
    if not sys.platform.startswith("linux"):
        return {"tier": "C", "reasons": {"A": "not Linux", "B": "not Linux"}}
    abi = confine.landlock_abi()
    seccomp = confine.seccomp_available()
    if abi < 1:
        reasons["B"] = "Landlock is not available in this kernel"
    elif not seccomp:
        reasons["B"] = "seccomp via pyseccomp/libseccomp.so.2 is not available"
    if "B" in reasons:
        reasons["A"] = reasons["B"]
    else:
        problem = _probe_bwrap(os.geteuid() == 0)
        if problem:
            reasons["A"] = problem
    tier = "C" if "B" in reasons else ("B" if "A" in reasons else "A")
    return {"tier": tier, "reasons": reasons, "landlock_abi": abi, "seccomp": seccomp}


def probe_report() -> dict:
    """``{"tier", "reasons", ...}`` for the best tier, honouring ``AUTOHEAL_SANDBOX_MAX_TIER``."""
    cap = os.environ.get(MAX_TIER_ENV, "A").strip().upper() or "A"
    tier_rank(cap)
    with _lock:
        if "probe" not in _cache:
            _cache["probe"] = _probe()
        report = dict(_cache["probe"])
    if tier_rank(report["tier"]) < tier_rank(cap):
        report["reasons"] = dict(report["reasons"])
        for tier in TIERS[: tier_rank(cap)]:
            report["reasons"].setdefault(tier, f"capped by {MAX_TIER_ENV}={cap}")
        report["tier"] = cap
    return report


def probe_tier() -> str:
    """The best tier available here: "A", "B" or "C" (cached per process)."""
    return probe_report()["tier"]

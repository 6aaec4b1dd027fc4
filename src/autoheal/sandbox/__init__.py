"""The one runner for generated extraction scripts (issue 4).

Generated code is hostile.  Every script runs in a persistent worker process behind a JSON pipe
protocol, confined by the best tier the machine offers (probed once per process):

* **A**: bubblewrap (empty root, no network, own PID/IPC/UTS namespaces, 64 MiB tmpfs, no
  capabilities, a per-worker uid) + Landlock + seccomp + rlimits;
* **B**: Landlock + seccomp + rlimits + a per-worker uid, where namespaces are unavailable;
* **C**: rlimits and a scrubbed environment only, with a loud warning on every run.

``Sandbox(min_tier=...)`` (config key ``sandbox_min_tier``) raises :class:`SandboxUnavailable`
before any script runs when the machine cannot meet it.  Everything else that can go wrong with
a script is a :class:`PageResult` with ``error_kind`` set, never an exception.
"""

from .probe import MAX_TIER_ENV, probe_report, probe_tier
from .runner import PageResult, Sandbox, SandboxUnavailable

__all__ = [
    "MAX_TIER_ENV",
    "PageResult",
    "Sandbox",
    "SandboxUnavailable",
    "probe_report",
    "probe_tier",
]

"""Send a job's logging and stderr to its Snakemake ``log:`` file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

__all__ = ["log_to"]


def log_to(path: str | Path | None) -> logging.Logger:
    """Route logging (INFO and up) and stderr to ``path``; return the ``autoheal`` logger."""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives for the job
        sys.stderr = handle
        logging.basicConfig(
            stream=handle, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            force=True,
        )
    return logging.getLogger("autoheal")

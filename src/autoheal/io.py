"""Small file helpers shared by every stage: atomic writes and the one slug function.

Every output goes through ``atomic_write_*`` (temp file in the same directory, fsync, rename),
so an interrupted job never leaves a half-written file that a rerun would take as done.

``slug`` is the only place a STORE_ID (or any other path-unsafe id) becomes a path part.  It is
injective: an id that is already a safe lower-case name is kept as is; anything else becomes a
readable sanitised stem plus a short hash of the original id, so ids that differ only by case,
by characters the sanitiser drops, or that contain ``/``, ``..``, quotes or unicode never map to
the same directory.  Slugs are lower-case, so they stay distinct on case-insensitive file systems.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from pathlib import Path

__all__ = ["atomic_write_text", "atomic_write_json", "read_json", "slug"]

_SAFE = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?")


def slug(identifier: str) -> str:
    """A path-safe, collision-free name for ``identifier`` (see module docstring)."""
    if _SAFE.fullmatch(identifier) and ".." not in identifier:
        return identifier
    ascii_ = unicodedata.normalize("NFKD", identifier).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:40].strip("-") or "id"
    digest = hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{stem}-{digest}"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (temp file + fsync + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.errno is not None:  # e.g. disk full: name the file
            raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from exc
        raise


def atomic_write_json(path: str | os.PathLike, data: object) -> None:
    """Write ``data`` as indented, key-sorted JSON, atomically."""
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def read_json(path: str | os.PathLike) -> object:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)

"""A content-addressed, process-safe cache of model replies.

Key: sha256 of the canonical JSON (sorted keys, compact separators, UTF-8) of what identifies a
reply: provider, vendor model id, generation parameters, system text and full prompt (see
``VendorModel.cache_material``), plus a format version. The registry name is not part of it, so
two registry names for the same vendor model share entries; API keys never are.

Layout: ``<cache_dir>/<key[:2]>/<key>.json`` holding ``{"v", "key", "provider", "model",
"reply"}`` (no prompt, no key). Writes go to a temporary file in the same directory followed by
``os.replace``, so concurrent Snakemake jobs never see a partial entry; two jobs racing on one
key both write the same content and the last rename wins. Unreadable entries count as misses.

``CachedModel`` wraps a backend: a hit returns the stored reply with ``cached=True`` and
``attempts=0`` (tokens and cost are the original ones: sum ``cost_usd`` only where
``cached`` is False); a miss calls the backend and stores every reply except ``status="error"``
(faults are worth retrying next run). ``synth`` is deterministic and free and is not wrapped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from .base import GenerationRequest, Reply

__all__ = ["CACHE_FORMAT", "CachedModel", "ReplyCache", "cache_key", "canonical_json"]

log = logging.getLogger("autoheal.models")

CACHE_FORMAT = 1


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cache_key(material: dict) -> str:
    payload = canonical_json({"v": CACHE_FORMAT, **material})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ReplyCache:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Reply | None:
        try:
            data = json.loads(self.path(key).read_text(encoding="utf-8"))
            if data.get("v") != CACHE_FORMAT or data.get("key") != key:
                return None
            return Reply.from_json(data["reply"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable cache entry %s: %s", self.path(key), exc)
            return None

    def put(self, key: str, reply: Reply, *, provider: str = "", model: str = "") -> Path:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        record = {"v": CACHE_FORMAT, "key": key, "provider": provider, "model": model,
                  "reply": replace(reply, cached=False).to_json()}
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:8]}-", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(canonical_json(record))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target


class CachedModel:
    """A Model that answers repeated requests from a ReplyCache."""

    def __init__(self, inner: Any, cache: ReplyCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name

    def generate(self, request: GenerationRequest) -> Reply:
        material = self.inner.cache_material(request)
        key = cache_key(material)
        hit = self.cache.get(key)
        if hit is not None:
            return replace(hit, cached=True, attempts=0)
        reply = self.inner.generate(request)
        if reply.status != "error":
            try:
                self.cache.put(key, reply, provider=material.get("provider", ""),
                               model=material.get("model", ""))
            except OSError as exc:  # a full disk must not lose a paid reply
                log.warning("could not write cache entry for %s: %s", self.name, exc)
        return reply

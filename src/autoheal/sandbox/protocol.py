"""Wire format between the trusted parent and the sandboxed worker.

Why this shape:

* Frames are a 4-byte big-endian length followed by UTF-8 JSON.  JSON, never pickle: decoding a
  pickle from an untrusted process runs that process's code in the parent (measured: a
  ``__reduce__`` payload executed ``os.system`` in the harness).  JSON can only ever produce
  dicts, lists, strings, numbers, booleans and None.
* The frames travel over private pipes on dedicated fds, not over the script's stdout, so a
  ``print`` in generated code can never be mistaken for an answer.
* This module is imported by both sides.  The worker runs it with ``python -I -S`` before any
  confinement, so it must depend on the standard library only and do nothing at import time.
"""

from __future__ import annotations

import json
import os
import struct

__all__ = [
    "HEADER",
    "MAX_RESPONSE_BYTES",
    "MAX_REQUEST_BYTES",
    "ProtocolError",
    "encode",
    "read_frame_blocking",
    "write_all",
]

HEADER = struct.Struct(">I")
#: answers bigger than this are refused by the worker and, if forged, by the parent
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
#: the parent is trusted, this only guards the worker against a torn stream
MAX_REQUEST_BYTES = 256 * 1024 * 1024


class ProtocolError(Exception):
    """The byte stream is not a well-formed frame sequence."""


def encode(message: dict) -> bytes:
    """One frame: header + compact JSON (``ensure_ascii`` keeps the payload 7-bit clean)."""
    payload = json.dumps(message, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return HEADER.pack(len(payload)) + payload


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame_blocking(fd: int, limit: int = MAX_REQUEST_BYTES) -> dict:
    """Read one frame (used by the worker, which may block: the parent owns the clock)."""
    (length,) = HEADER.unpack(_read_exact(fd, HEADER.size))
    if length > limit:
        raise ProtocolError(f"frame of {length} bytes exceeds {limit}")
    message = json.loads(_read_exact(fd, length))
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message

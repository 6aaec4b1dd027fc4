"""Read other processes' environments (and memory maps) through /proc."""
import json
import os
import re


def extract(html):
    if html.startswith("ATTACK"):
        params = json.loads(html[len("ATTACK"):])
        pids = {str(params["harness_pid"]), str(os.getppid()), "1"}
        try:
            pids.update(p for p in os.listdir("/proc") if p.isdigit())
        except OSError:
            pass
        found = []
        readable = 0
        for pid in sorted(pids):
            try:
                with open(f"/proc/{pid}/environ", "rb") as handle:
                    data = handle.read()
                readable += 1
                if b"CANARY" in data:
                    found.append(pid)
            except OSError:
                pass
            try:
                with open(f"/proc/{pid}/maps", "rb") as handle:
                    handle.read(1)
                readable += 1
            except OSError:
                pass
        return {"TITLE": "attack", "CANARY_IN": ",".join(found), "READABLE": str(readable)}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

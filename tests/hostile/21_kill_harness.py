"""SIGKILL the parent, a victim process, the process group and -1 (everything it may signal)."""
import json
import os
import re
import signal


def extract(html):
    if html.startswith("ATTACK"):
        p = json.loads(html[len("ATTACK"):])
        sent = []
        for name, fn in (("ppid", lambda: os.kill(os.getppid(), signal.SIGKILL)),
                         ("harness", lambda: os.kill(p["harness_pid"], signal.SIGKILL)),
                         ("victim", lambda: os.kill(p["victim_pid"], signal.SIGKILL)),
                         ("killpg0", lambda: os.killpg(0, signal.SIGKILL)),
                         ("minus1", lambda: os.kill(-1, signal.SIGKILL))):
            try:
                fn()
                sent.append(name)
            except OSError:
                pass
        return {"TITLE": "attack", "SENT": ",".join(sent)}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

"""setsid + double fork: an orphan outside the worker's process group keeps a heartbeat file."""
import json
import os
import re
import time


def extract(html):
    if html.startswith("ATTACK"):
        params = json.loads(html[len("ATTACK"):])
        try:
            pid = os.fork()
        except OSError as exc:
            return {"TITLE": "attack", "ORPHAN": "fork refused: " + type(exc).__name__}
        if pid == 0:
            os.setsid()
            if os.fork() == 0:
                while True:
                    try:
                        with open(params["heartbeat"], "w") as handle:
                            handle.write(str(time.time()))
                    except OSError:
                        pass
                    time.sleep(0.05)
            os._exit(0)
        os.waitpid(pid, 0)
        return {"TITLE": "attack", "ORPHAN": "started"}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

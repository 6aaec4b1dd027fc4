"""Fork bomb (bounded at 300 forks so an uncontained run cannot take the machine down)."""
import os
import re
import time


def extract(html):
    if html.startswith("ATTACK"):
        forks = 0
        errors = ""
        for _ in range(300):
            try:
                pid = os.fork()
            except OSError as exc:
                errors = type(exc).__name__
                break
            if pid == 0:
                time.sleep(20)
                os._exit(0)
            forks += 1
        return {"TITLE": "attack", "FORKS": str(forks), "ERROR": errors}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

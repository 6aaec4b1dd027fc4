"""Thread bomb: start sleeping threads until something refuses (bounded at 5000)."""
import re
import threading
import time


def extract(html):
    if html.startswith("ATTACK"):
        started = 0
        error = ""
        for _ in range(5000):
            try:
                threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
            except BaseException as exc:  # noqa: BLE001
                error = type(exc).__name__
                break
            started += 1
        return {"TITLE": "attack", "THREADS": str(started), "ERROR": error}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

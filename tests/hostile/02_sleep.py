"""Sleep forever: the soft timeout interrupts the sleep."""
import re
import time


def extract(html):
    if html.startswith("ATTACK"):
        time.sleep(3600)
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

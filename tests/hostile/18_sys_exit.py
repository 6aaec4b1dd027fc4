"""sys.exit and KeyboardInterrupt from extract: page failures, the worker survives."""
import re
import sys


def extract(html):
    if html.startswith("ATTACK exit"):
        sys.exit(3)
    if html.startswith("ATTACK kbd"):
        raise KeyboardInterrupt
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

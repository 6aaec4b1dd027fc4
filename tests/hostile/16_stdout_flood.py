"""100 MiB on stdout and 100 MiB on stderr."""
import os
import re
import sys


def extract(html):
    if html.startswith("ATTACK"):
        block = "x" * (1 << 20)
        for _ in range(100):
            sys.stdout.write(block)
        sys.stdout.flush()
        raw = b"y" * (1 << 20)
        for _ in range(100):
            os.write(2, raw)
        return {"TITLE": "attack"}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

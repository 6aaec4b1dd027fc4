"""Memory bomb: one huge C-level allocation, then unbounded growth."""
import re


def extract(html):
    if html.startswith("ATTACK"):
        hog = []
        try:
            hog.append(b"\x01" * (16 << 30))
        except MemoryError:
            pass
        while True:
            hog.append(bytearray(64 << 20))
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

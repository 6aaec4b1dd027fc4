"""Infinite loop in extract: the soft timeout must stop it without killing the worker."""
import re


def extract(html):
    if html.startswith("ATTACK"):
        while True:
            pass
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

"""os._exit(0): the worker vanishes without an answer."""
import os
import re


def extract(html):
    if html.startswith("ATTACK"):
        os._exit(0)
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

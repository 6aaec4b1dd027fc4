"""Segfault through ctypes (address 8: NULL would make CPython allocate instead)."""
import ctypes
import re


def extract(html):
    if html.startswith("ATTACK"):
        ctypes.string_at(8, 64)
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

"""Hang at import time (the load timeout must fire)."""
while True:
    pass


def extract(html):
    return {"TITLE": "never"}

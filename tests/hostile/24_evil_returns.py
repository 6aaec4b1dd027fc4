"""Evil return values: pickle payloads, lying str subclasses, 64 MiB, 100k-deep nesting."""
import json
import os
import re


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class AlwaysEqual(str):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0

    def __str__(self):
        return "FORGED-BY-STR"


class LyingDict(dict):
    def items(self):
        return [("TITLE", "FORGED-BY-ITEMS")]


def extract(html):
    if html.startswith("ATTACK"):
        p = json.loads(html[len("ATTACK"):])
        kind = p["kind"]
        if kind == "pickle":
            return {"TITLE": Payload(p["marker"])}
        if kind == "pickle_root":
            return Payload(p["marker"])
        if kind == "streq":
            return {"TITLE": AlwaysEqual("x"), AlwaysEqual("KEY"): "v"}
        if kind == "lyingdict":
            return LyingDict(TITLE="real")
        if kind == "big":
            return {"TITLE": "a" * (64 << 20)}
        if kind == "deep":
            value = []
            for _ in range(100_000):
                value = [value]
            return {"TITLE": value}
        if kind == "hugeint":
            return {"TITLE": 10 ** 5000}
        if kind == "notdict":
            return ["TITLE", "x"]
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

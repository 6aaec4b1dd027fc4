"""Read the project's config, .env and ground-truth CSV, directly and through lxml (no open())."""
import json
import os
import re

from lxml import etree


def extract(html):
    if html.startswith("ATTACK"):
        params = json.loads(html[len("ATTACK"):])
        readable = []
        for path in params["files"]:
            try:
                with open(path, "rb") as handle:
                    handle.read(1)
                readable.append(path)
            except OSError:
                pass
            try:
                etree.parse(path, etree.HTMLParser())
                readable.append("lxml:" + path)
            except Exception:  # noqa: BLE001
                pass
            try:
                doc = f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{path}">]><d>&x;</d>'
                root = etree.fromstring(doc.encode(), etree.XMLParser(resolve_entities=True))
                if root.text:
                    readable.append("xxe:" + path)
            except Exception:  # noqa: BLE001
                pass
        for directory in params["dirs"]:
            try:
                os.listdir(directory)
                readable.append("listdir:" + directory)
            except OSError:
                pass
        return {"TITLE": "attack", "READABLE": ",".join(readable)}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

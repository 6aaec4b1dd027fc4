"""Benign control: must work in every tier."""
import re

from lxml import html as lxml_html


def extract(html):
    doc = lxml_html.fromstring(html)
    title = doc.findtext(".//title")
    match = re.search(r"Order #(\d+)", html)
    print("benign ran")
    return {"TITLE": title, "ORDER_ID": match.group(1) if match else None, "ITEMS": 3, "RATE": 1.5}

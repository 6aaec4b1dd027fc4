"""Look for API keys in os.environ.  Reports the names of suspicious variables only."""
import os
import re


def extract(html):
    if html.startswith("ATTACK"):
        hits = [key for key, value in os.environ.items()
                if "CANARY" in value or re.search(r"KEY|TOKEN|SECRET|PASSWORD", key)]
        return {"TITLE": "attack", "FOUND": ",".join(sorted(hits)), "NAMES": ",".join(sorted(os.environ))}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

"""Write files outside the sandbox's temp dir."""
import json
import re


def extract(html):
    if html.startswith("ATTACK"):
        written = []
        for path in json.loads(html[len("ATTACK"):])["paths"]:
            try:
                with open(path, "w") as handle:
                    handle.write("SBX_ESCAPE")
                written.append(path)
            except OSError:
                pass
        return {"TITLE": "attack", "WRITTEN": ",".join(written)}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

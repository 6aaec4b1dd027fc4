"""Delete files and directories the harness owns."""
import json
import os
import re
import shutil


def extract(html):
    if html.startswith("ATTACK"):
        deleted = []
        for path in json.loads(html[len("ATTACK"):])["paths"]:
            try:
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
                deleted.append(path)
            except OSError:
                pass
        return {"TITLE": "attack", "DELETED": ",".join(deleted)}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

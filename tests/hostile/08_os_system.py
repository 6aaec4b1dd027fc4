"""Run programs: os.system, subprocess, os.popen, posix_spawn."""
import json
import os
import re
import subprocess


def extract(html):
    if html.startswith("ATTACK"):
        marker = json.loads(html[len("ATTACK"):])["marker"]
        done = []
        attempts = {
            "os.system": lambda: os.system(f"touch {marker}.system") == 0,
            "subprocess": lambda: subprocess.run(["/bin/sh", "-c", f"touch {marker}.subprocess"]).returncode == 0,
            "popen": lambda: os.popen(f"touch {marker}.popen; echo ok").read().strip() == "ok",
            "posix_spawn": lambda: os.waitpid(os.posix_spawn("/usr/bin/touch", ["touch", f"{marker}.spawn"], {}), 0)[1] == 0,
        }
        for name, attempt in attempts.items():
            try:
                if attempt():
                    done.append(name)
            except BaseException:  # noqa: BLE001
                pass
        return {"TITLE": "attack", "RAN": ",".join(done)}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

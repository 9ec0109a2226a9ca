"""Audit records and checkpoints to syslog: after the commit, never in the way of a write.

Where. ``SOUVERAIN_AUDIT_SYSLOG`` (settings, from the environment): ``udp://host:514``, ``tcp://host:514``
(``[::1]`` for IPv6), ``unix:///dev/log``; the older ``host:port`` (UDP) and ``/dev/log`` still work. Empty: off,
and appends pay nothing. ``SOUVERAIN_AUDIT_SYSLOG_FACILITY`` (``authpriv`` by default: rsyslog's and journald's
usual routing keeps it with the other security messages, out of the world-readable logs).
``souverain audit export --syslog ADDRESS [--from --to]`` back-fills a range through the same formatter.

Format: RFC 5424 with a JSON payload. The header carries what RFC 3164 cannot: the year and time zone (the
record's own time, UTC, to the microsecond, the time that is hashed), the host, ``souverain`` as the app name, the
process id, and a MSGID (``audit.record``, ``audit.checkpoint``, ``audit.syslog_dropped``) a SIEM can route on
without parsing; the structured data element ``[souverain@32473 seq=… hash=… prev_hash=… action=…]`` (for a
checkpoint ``number first_seq last_seq head_hash hash``) is indexed by rsyslog's ``mmpstrucdata``, syslog-ng and
Splunk as they stand. 32473 is the private enterprise number RFC 5612 reserves for examples: an operator with their
own number keeps the element name, nothing else depends on it. The MSG is the BOM that RFC 5424 asks of UTF-8
text followed by exactly the line ``souverain audit export`` writes (``{"type": "record", …}``), so what a SIEM
stores can be cut back into an export and verified offline (``souverain audit verify --file``). Over TCP each
message is framed by octet counting (RFC 6587 §3.4.1: ``LENGTH SP MESSAGE``), which survives newlines in a record
where the older newline framing does not; over UDP and the local socket one datagram is one message. A UDP
datagram above about 64 KiB (a record with large before/after snapshots) cannot be sent: it counts as dropped —
use TCP for a trail that must be complete.

After the commit, never in the way. ``append`` and ``make_checkpoint`` call ``after_commit``, which registers a
``transaction.on_commit`` callback: a record rolled back with its change is never sent, and nothing is sent while
the chain's lock is held. The callback only puts the record in a bounded queue (``SOUVERAIN_AUDIT_SYSLOG_QUEUE``,
10,000 by default) that one daemon thread per process drains through ``logging.handlers.SysLogHandler``
(subclassed to frame TCP, to raise instead of printing, and to time out). When syslog is down the thread retries
the same message with backoff (0.5 s doubling to 30 s), the queue fills, and further records are dropped: a write
never waits for syslog and never fails because of it. Drops are counted (``Forwarder.dropped``) and audited: the
first drop of a run appends an ``audit.syslog_dropped`` record at once (seq of the dropped record, reason), and
while drops go on at most one more a minute and one when the queue takes records again, with the count and the
seq range since the last one. The chain itself holds every record: a SIEM that missed some back-fills them with
``souverain audit export --syslog``.
"""

from __future__ import annotations

import atexit
import errno
import json
import logging
import logging.handlers
import os
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

log = logging.getLogger(__name__)

SD_ID = "souverain@32473"
APP_NAME = "souverain"
#: Seconds a TCP connect or send may take before the sender gives up on it (and retries with backoff).
SEND_TIMEOUT = 5.0
#: While records are being dropped, at most one ``audit.syslog_dropped`` record per this many seconds.
DROP_REPORT_INTERVAL = 60.0
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0


@dataclass(frozen=True)
class Target:
    transport: str  # udp, tcp, unix
    address: tuple[str, int] | str

    def __str__(self) -> str:
        if isinstance(self.address, str):
            return f"unix://{self.address}"
        host = f"[{self.address[0]}]" if ":" in self.address[0] else self.address[0]
        return f"{self.transport}://{host}:{self.address[1]}"


def parse_address(text: str) -> Target:
    """``udp://host:port``, ``tcp://host:port``, ``unix:///path``; or ``host:port`` (UDP) or ``/path``."""
    text = text.strip()
    if "://" not in text:
        if text.startswith("/"):
            return Target("unix", text)
        text = f"udp://{text}"
    parts = urlsplit(text)
    if parts.scheme == "unix":
        path = parts.path or parts.netloc
        if not path.startswith("/"):
            raise ValueError(f"syslog address {text!r}: a unix socket needs an absolute path (unix:///dev/log)")
        return Target("unix", path)
    if parts.scheme not in ("udp", "tcp"):
        raise ValueError(f"syslog address {text!r}: the scheme must be udp://, tcp:// or unix://")
    try:
        port = parts.port or 514
    except ValueError as exc:
        raise ValueError(f"syslog address {text!r}: {exc}") from exc
    if not parts.hostname:
        raise ValueError(f"syslog address {text!r}: no host (udp://host:514)")
    return Target(parts.scheme, (parts.hostname, port))


# --- the message ---------------------------------------------------------------------------------------------


def _sd_value(value: Any) -> str:
    # RFC 5424 §6.3.3: inside a PARAM-VALUE, '"', '\' and ']' are escaped with a backslash.
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _structured(params: dict[str, Any]) -> str:
    return "[" + SD_ID + "".join(f' {name}="{_sd_value(value)}"' for name, value in params.items()) + "]"


def format_message(item: dict[str, Any], *, hostname: str | None = None, procid: int | None = None) -> str:
    """The RFC 5424 message after its PRI (which the handler puts in front): header, structured data, BOM, JSON.

    ``item`` is an export line's object, ``{"type": "record", …}`` or ``{"type": "checkpoint", …}``; a drop
    notice is an audit record like the others, with its own MSGID."""
    kind = item.get("type")
    if kind == "record":
        msgid = "audit.syslog_dropped" if item.get("action") == "audit.syslog_dropped" else "audit.record"
        params = {"seq": item["seq"], "hash": item["hash"], "prev_hash": item["prev_hash"], "action": item["action"]}
    elif kind == "checkpoint":
        msgid = "audit.checkpoint"
        params = {"number": item["number"], "first_seq": item["first_seq"], "last_seq": item["last_seq"],
                  "head_hash": item["head_hash"], "hash": item["hash"]}
    else:
        raise ValueError(f"not an audit record or checkpoint: {kind!r}")
    header = " ".join(("1", item["time"], (hostname or socket.gethostname() or "-")[:255], APP_NAME,
                       str(procid if procid is not None else os.getpid()), msgid))
    return f"{header} {_structured(params)} \ufeff{json.dumps(item, ensure_ascii=False)}"


class Handler(logging.handlers.SysLogHandler):
    """The standard library's handler, for one target: octet-counting framing over TCP, errors raised to the
    caller (the forwarder retries or counts them) rather than printed, a timeout on every socket, and no
    connection attempt until the first message (a syslog that is down must not stop the server starting)."""

    append_nul = False

    def __init__(self, target: Target, facility: str | int = "authpriv") -> None:
        self.target = target
        socktype = {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM}.get(target.transport)  # unix: either
        logging.Handler.__init__(self)  # not SysLogHandler.__init__: it connects at once
        self.address, self.socktype, self.socket = target.address, socktype, None
        self.unixsocket = isinstance(target.address, str)
        self.facility = self.facility_names[facility] if isinstance(facility, str) else facility

    def _open(self) -> None:
        if self.unixsocket:
            self._connect_unixsocket(self.address)
        else:
            host, port = self.address
            address = socket.getaddrinfo(host, port, 0, self.socktype)[0]
            sock = socket.socket(address[0], self.socktype, address[2])
            sock.settimeout(SEND_TIMEOUT)
            try:
                if self.socktype == socket.SOCK_STREAM:
                    sock.connect(address[4])
            except OSError:
                sock.close()
                raise
            self.socket, self.sockaddr = sock, address[4]
        self.socket.settimeout(SEND_TIMEOUT)

    def send(self, message: str, severity: str = "info") -> None:
        """Send one message at a syslog severity (``info``, ``notice``…); raises OSError, after which the socket
        is closed and opened again on the next call."""
        priority = self.encodePriority(self.facility, severity)
        data = f"<{priority}>{message}".encode()
        if self.socktype == socket.SOCK_STREAM and not self.unixsocket:
            data = f"{len(data)} ".encode() + data
        try:
            if self.socket is None:
                self._open()
            if self.unixsocket or self.socktype == socket.SOCK_STREAM:
                self.socket.sendall(data)
            else:
                self.socket.sendto(data, self.sockaddr)
        except OSError:
            self.close_socket()
            raise

    def emit(self, record: logging.LogRecord) -> None:
        self.send(self.format(record), self.mapPriority(record.levelname))

    def close_socket(self) -> None:
        if self.socket is not None:
            try:
                self.socket.close()
            except OSError:
                pass
            self.socket = None

    def close(self) -> None:
        self.close_socket()
        logging.Handler.close(self)


# --- the forwarder: a bounded queue and one thread -------------------------------------------------------------


def _item_of(kind: str, obj: Any) -> dict[str, Any]:
    from . import services  # services imports this module

    if kind == "record":
        return services.as_export(obj)
    return {"type": "checkpoint", **services.checkpoint_fields(obj)}


class Forwarder:
    """One per process: ``submit`` never blocks; a daemon thread sends, retrying while syslog is down."""

    def __init__(self, target: Target, *, facility: str = "authpriv", size: int = 10_000) -> None:
        self.target, self.facility, self.size = target, facility, size
        self.queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=size)
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self.pid = os.getpid()
        self.sent = 0
        self.dropped = 0  # since the process started
        self.failures = 0  # failed attempts to send (each retried)
        self.dropping = False  # in a run of drops (from the first drop to the next record the queue takes)
        # The drops not yet reported by an audit record: count, first and last seq, reason, first of a run.
        self.unreported: dict[str, Any] | None = None
        self.last_report = 0.0
        self.reporting = threading.local()

    # -- producers (the writing threads, after their commit) --

    def submit(self, kind: str, obj: Any) -> bool:
        """Queue a record or checkpoint; False (and counted, and audited) when the queue is full."""
        self._ensure_thread()
        try:
            self.queue.put_nowait((kind, obj))
        except queue.Full:
            self._dropped(getattr(obj, "seq", None) if kind == "record" else None, "queue full")
            accepted = False
        else:
            accepted = True
        self._report_drops(final=accepted)
        return accepted

    def _dropped(self, seq: int | None, reason: str) -> None:
        with self.lock:
            self.dropped += 1
            pending = self.unreported or {"dropped": 0, "first_seq": None, "last_seq": None, "new": False}
            pending["dropped"] += 1
            pending["reason"] = reason
            if seq is not None:
                pending["first_seq"] = seq if pending["first_seq"] is None else min(pending["first_seq"], seq)
                pending["last_seq"] = seq if pending["last_seq"] is None else max(pending["last_seq"], seq)
            if not self.dropping:
                self.dropping, pending["new"] = True, True
            self.unreported = pending

    def _report_drops(self, *, final: bool) -> None:
        """Append an ``audit.syslog_dropped`` record for the drops not yet reported: at once for the first one of
        a run, then at most once a minute, and when the queue takes records again (``final``: the run ends)."""
        if getattr(self.reporting, "active", False):
            return  # the submit of the drop record itself
        with self.lock:
            pending = self.unreported
            if pending is None or not (pending["new"] or final
                                       or time.monotonic() - self.last_report >= DROP_REPORT_INTERVAL):
                if final and pending is None:
                    self.dropping = False
                return
            self.unreported, self.last_report = None, time.monotonic()
            if final:
                self.dropping = False
        from . import services

        self.reporting.active = True
        try:
            services.append("audit.syslog_dropped", object_type="audit.syslog", object_repr=str(self.target),
                            source="system", username="system",
                            data={"target": str(self.target), "dropped": pending["dropped"],
                                  "first_seq": pending["first_seq"], "last_seq": pending["last_seq"],
                                  "reason": pending["reason"], "run_ended": final,
                                  "dropped_since_start": self.dropped, "queue_size": self.size})
        except Exception:  # noqa: BLE001 - after the caller's commit: never fail it; log, and count them again
            log.exception("audit: could not record that %s syslog message(s) were dropped", pending["dropped"])
            with self.lock:
                again = self.unreported or {"dropped": 0, "first_seq": None, "last_seq": None, "reason": ""}
                again["dropped"] += pending["dropped"]
                again["new"], self.unreported = False, again
        finally:
            self.reporting.active = False

    # -- the sender thread --

    def _ensure_thread(self) -> None:
        if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
            return
        with self.lock:
            if self.pid != os.getpid():  # forked (a worker process): a new queue, a new thread
                self.queue, self.pid, self.thread = queue.Queue(maxsize=self.size), os.getpid(), None
            if (self.thread is None or not self.thread.is_alive()) and not self.stopping.is_set():
                self.thread = threading.Thread(target=self._run, name="audit-syslog", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        handler = Handler(self.target, self.facility)
        hostname = socket.gethostname()
        try:
            while not self.stopping.is_set():
                try:
                    kind, obj = self.queue.get(timeout=0.2)
                except queue.Empty:
                    continue
                try:
                    try:
                        message = format_message(_item_of(kind, obj), hostname=hostname)
                    except Exception:  # noqa: BLE001 - a record that cannot be formatted is dropped, not retried
                        log.exception("audit: cannot format %s for syslog", kind)
                        self._dropped(getattr(obj, "seq", None), "cannot be formatted")
                        continue
                    self._send(handler, message, kind, getattr(obj, "seq", None))
                finally:
                    self.queue.task_done()
        finally:
            handler.close()

    def _send(self, handler: Handler, message: str, kind: str, seq: int | None) -> None:
        delay = BACKOFF_FIRST
        level = "notice" if kind == "checkpoint" else "info"
        while not self.stopping.is_set():
            try:
                handler.send(message, level)
            except OSError as exc:
                self.failures += 1
                if exc.errno == errno.EMSGSIZE:
                    log.warning("audit: seq %s is too large for a syslog datagram to %s; dropped", seq, self.target)
                    self._dropped(seq, "too large for a datagram")
                    return
                if delay == BACKOFF_FIRST or delay >= BACKOFF_MAX:
                    log.warning("audit: syslog %s unreachable (%s); retrying in %.1f s", self.target, exc, delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)
            else:
                self.sent += 1
                return

    def flush(self, timeout: float = 2.0) -> bool:
        """Wait until the queue is sent (True), or ``timeout`` seconds (False)."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks:
            if self.thread is None or not self.thread.is_alive() or time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread (what is still queued is not sent)."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout)


_forwarder: Forwarder | None = None


def configure(address: str | None = None) -> Forwarder | None:
    """Set up (or, with an empty address, turn off) the forwarder from the settings; returns it."""
    global _forwarder
    if _forwarder is not None:
        _forwarder.stop(timeout=0)
    address = getattr(settings, "SOUVERAIN_AUDIT_SYSLOG", "") if address is None else address
    if not address:
        _forwarder = None
        return None
    try:
        target = parse_address(address)
    except ValueError as exc:
        raise ImproperlyConfigured(f"SOUVERAIN_AUDIT_SYSLOG: {exc}") from exc
    facility = getattr(settings, "SOUVERAIN_AUDIT_SYSLOG_FACILITY", "authpriv")
    if facility not in logging.handlers.SysLogHandler.facility_names:
        raise ImproperlyConfigured(f"SOUVERAIN_AUDIT_SYSLOG_FACILITY: unknown facility {facility!r}")
    _forwarder = Forwarder(target, facility=facility, size=int(getattr(settings, "SOUVERAIN_AUDIT_SYSLOG_QUEUE",
                                                                       10_000)))
    return _forwarder


def forwarder() -> Forwarder | None:
    return _forwarder


def after_commit(kind: str, obj: Any, using: str) -> None:
    """Send ``obj`` (an AuditRecord or AuditCheckpoint) to syslog once its transaction commits; nothing when off."""
    current = _forwarder
    if current is not None:
        transaction.on_commit(lambda: _submit(current, kind, obj), using=using)


def _submit(current: Forwarder, kind: str, obj: Any) -> None:
    try:
        current.submit(kind, obj)
    except Exception:  # noqa: BLE001 - runs after the commit: the write has happened and must not fail now
        log.exception("audit: could not queue seq %s for syslog", getattr(obj, "seq", None))


@atexit.register
def _flush_at_exit() -> None:
    # A short-lived process (a CLI command, a job) gives its last records a moment to leave.
    if _forwarder is not None and _forwarder.thread is not None:
        _forwarder.flush(timeout=2.0)


def backfill(address: str, records: Any, checkpoints: Any, *, facility: str = "authpriv") -> int:
    """``souverain audit export --syslog``: send checkpoints then records now, synchronously; the count sent.
    Raises ValueError for a bad address and OSError when syslog cannot be reached."""
    handler = Handler(parse_address(address), facility)
    hostname = socket.gethostname()
    sent = 0
    try:
        for kind, objects in (("checkpoint", checkpoints), ("record", records)):
            for obj in objects:
                handler.send(format_message(_item_of(kind, obj), hostname=hostname),
                             "notice" if kind == "checkpoint" else "info")
                sent += 1
    finally:
        handler.close()
    return sent


"""Syslog export against real syslog receivers on loopback (UDP and TCP sockets started here): records and
checkpoints arrive after the commit with their seq and hash, in RFC 5424 with the export's JSON line; a rolled
back record never leaves; a syslog that is down neither blocks nor fails a write, and the drops are audited; the
CLI back-fills a range.
"""

from __future__ import annotations

import json
import re
import socket
import socketserver
import threading
import time

import pytest
from click.testing import CliRunner
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from souverain.audit import services, syslog_export
from souverain.audit.models import AuditRecord
from souverain.cli.main import main

pytestmark = pytest.mark.django_db

RFC5424 = re.compile(r"^<(?P<pri>\d+)>1 (?P<time>\S+) (?P<host>\S+) souverain (?P<pid>\d+) (?P<msgid>\S+) "
                     r"\[souverain@32473(?P<params>(?: [a-z_]+=\"(?:[^\"\\\]]|\\.)*\")+)\] \ufeff(?P<json>\{.*\})$",
                     re.DOTALL)


def parse(message: bytes) -> dict:
    match = RFC5424.match(message.decode())
    assert match, message
    params = dict(re.findall(r' ([a-z_]+)="((?:[^"\\\]]|\\.)*)"', match["params"]))
    return {**match.groupdict(), "params": params, "item": json.loads(match["json"])}


class Receiver:
    """A syslog receiver on loopback: UDP (one datagram, one message) or TCP (RFC 6587 octet counting)."""

    def __init__(self, transport: str, port: int = 0) -> None:
        self.messages: list[bytes] = []
        self.arrived = threading.Condition()
        receiver = self

        class UDP(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                receiver.add(self.request[0])

        class TCP(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                while True:
                    length = b""
                    while (char := self.rfile.read(1)) not in (b" ", b""):
                        length += char
                    if not length:
                        return
                    receiver.add(self.rfile.read(int(length)))

        server_class = socketserver.UDPServer if transport == "udp" else socketserver.ThreadingTCPServer
        server_class.allow_reuse_address = True
        server_class.daemon_threads = True
        self.server = server_class(("127.0.0.1", port), UDP if transport == "udp" else TCP)
        self.address = f"{transport}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def add(self, message: bytes) -> None:
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.messages) >= count, timeout), self.messages
        return [parse(m) for m in self.messages]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    started: list[Receiver] = []

    def start(transport: str, port: int = 0) -> Receiver:
        started.append(Receiver(transport, port))
        return started[-1]

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture
def forwarding(settings):
    """Turn the live export on for one test, towards ``address``; off (thread stopped) afterwards."""

    def start(address: str, queue: int = 10_000) -> syslog_export.Forwarder:
        settings.SOUVERAIN_AUDIT_SYSLOG, settings.SOUVERAIN_AUDIT_SYSLOG_QUEUE = address, queue
        forwarder = syslog_export.configure()
        assert forwarder is not None
        return forwarder

    yield start
    syslog_export.configure("")


def _append(n: int, start: int = 1) -> list[AuditRecord]:
    return [services.append("test.event", object_type="test.thing", object_id=str(i), object_repr=f"thing {i}",
                            data={"i": i, "text": 'a "quoted" ] value é'}) for i in range(start, start + n)]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_records_and_checkpoints_arrive_after_commit_with_seq_and_hash(transport, receivers, forwarding,
                                                                         django_capture_on_commit_callbacks):
    receiver = receivers(transport)
    forwarding(receiver.address)
    with django_capture_on_commit_callbacks(execute=True):
        records = _append(3)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = services.make_checkpoint()
    messages = receiver.wait_for(4)
    assert [m["msgid"] for m in messages] == ["audit.record"] * 3 + ["audit.checkpoint"]
    for message, record in zip(messages, records, strict=False):
        assert message["params"]["seq"] == str(record.seq) and message["params"]["hash"] == record.hash
        assert message["params"]["prev_hash"] == record.prev_hash
        assert message["item"] == json.loads(json.dumps(services.as_export(record)))  # the export's own line
        assert message["time"] == message["item"]["time"]  # the hashed time, UTC to the microsecond
        assert message["pri"] == str(10 * 8 + 6)  # authpriv.info
    assert messages[3]["params"]["head_hash"] == checkpoint.head_hash == records[-1].hash
    assert messages[3]["pri"] == str(10 * 8 + 5)  # authpriv.notice
    assert messages[3]["item"]["signature"] == checkpoint.signature


def test_nothing_is_sent_before_the_commit_nor_after_a_rollback(receivers, forwarding,
                                                                 django_capture_on_commit_callbacks):
    receiver = receivers("udp")
    forwarder = forwarding(receiver.address)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _append(1)
    assert len(callbacks) == 1 and forwarder.queue.qsize() == 0  # still waiting for the commit
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            _append(1, start=2)
            raise RuntimeError("the change fails")
        kept = _append(1, start=3)[0]
    [message] = receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.messages) == 1 and message["params"]["seq"] == str(kept.seq)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_down_syslog_neither_blocks_nor_fails_writes_and_the_drops_are_audited(
        receivers, forwarding, django_capture_on_commit_callbacks):
    port = _closed_port()
    forwarder = forwarding(f"tcp://127.0.0.1:{port}", queue=3)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        records = _append(10)
    assert time.monotonic() - started < 5  # ten writes did not wait for a syslog that refuses connections
    assert forwarder.dropped >= 6  # at most the queue and the one being retried got through
    drops = list(AuditRecord.objects.filter(action="audit.syslog_dropped").order_by("seq"))
    # The first drop of the run is recorded at once (a second record only if the sender freed a slot meanwhile,
    # which ends the run); the others wait for the end of the run or a minute.
    assert 1 <= len(drops) <= 2
    first = drops[0].data_json
    assert first["reason"] == "queue full" and first["dropped"] == 1 and first["target"] == f"tcp://127.0.0.1:{port}"
    assert records[0].seq < first["first_seq"] <= records[-1].seq

    # Syslog comes back on that port: the queued records leave (the sender retries with backoff), the next
    # write is queued again, and the run of drops is closed by a record with the count.
    receiver = receivers("tcp", port)
    assert forwarder.flush(timeout=15), "the queue did not drain once syslog was back"
    with django_capture_on_commit_callbacks(execute=True):
        _append(1, start=11)
    drops = [record.data_json for record in AuditRecord.objects.filter(action="audit.syslog_dropped").order_by("seq")]
    assert drops[-1]["run_ended"] is True
    assert sum(drop["dropped"] for drop in drops) == forwarder.dropped  # every drop is in a record
    messages = receiver.wait_for(len(receiver.messages) or 1)
    assert all(m["params"]["hash"] == AuditRecord.objects.get(seq=int(m["params"]["seq"])).hash for m in messages
               if m["msgid"] != "audit.checkpoint")
    assert services.verify().ok


def test_the_cli_back_fills_a_range_to_syslog(receivers):
    records = _append(5)
    services.make_checkpoint()
    receiver = receivers("tcp")
    result = CliRunner().invoke(main, ["audit", "export", "--syslog", receiver.address, "--from", "2", "--to", "4"])
    assert result.exit_code == 0, result.output
    assert "sent 3 message(s)" in result.output
    messages = receiver.wait_for(3)
    assert [(m["params"]["seq"], m["params"]["hash"]) for m in messages] == \
        [(str(r.seq), r.hash) for r in records[1:4]]

    down = CliRunner().invoke(main, ["audit", "export", "--syslog", f"tcp://127.0.0.1:{_closed_port()}"])
    assert down.exit_code == 1 and "refused" in " ".join(down.output.lower().split())
    bad = CliRunner().invoke(main, ["audit", "export", "--syslog", "http://example.org"])
    assert bad.exit_code == 1 and "udp://, tcp:// or unix://" in " ".join(bad.output.split())  # the console wraps


@pytest.mark.django_db(False)
def test_addresses_and_the_message_format(settings):
    parse_address = syslog_export.parse_address
    assert parse_address("udp://siem.example:1514") == syslog_export.Target("udp", ("siem.example", 1514))
    assert parse_address("tcp://[::1]") == syslog_export.Target("tcp", ("::1", 514))
    assert parse_address("unix:///dev/log") == syslog_export.Target("unix", "/dev/log")
    assert parse_address("/dev/log") == syslog_export.Target("unix", "/dev/log")
    assert parse_address("10.0.0.5:514") == syslog_export.Target("udp", ("10.0.0.5", 514))
    assert str(parse_address("tcp://[::1]:6514")) == "tcp://[::1]:6514"
    for bad in ("http://x", "udp://:514", "udp://host:port", "unix://relative"):
        with pytest.raises(ValueError):
            parse_address(bad)
    settings.SOUVERAIN_AUDIT_SYSLOG = "ftp://x"
    with pytest.raises(ImproperlyConfigured, match="SOUVERAIN_AUDIT_SYSLOG"):
        syslog_export.configure()
    message = syslog_export.format_message(
        {"type": "record", "seq": 7, "time": "2026-01-01T00:00:00.000001Z", "hash": "h", "prev_hash": "p",
         "action": 'odd "action"]\\'}, hostname="host", procid=42)
    assert message.startswith('1 2026-01-01T00:00:00.000001Z host souverain 42 audit.record '
                              '[souverain@32473 seq="7" hash="h" prev_hash="p" action="odd \\"action\\"\\]\\\\"] '
                              '\ufeff{"type": "record"')

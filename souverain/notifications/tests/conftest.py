"""A real SMTP server (aiosmtpd) and a real HTTP receiver on loopback, and a helper running the queued jobs."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mailbox:
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        from email import message_from_bytes, policy

        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """An SMTP server on loopback; Django's SMTP backend pointed at it. Yields the mailbox (recipients, message)."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Receiver:
    url: str
    secret: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: Status codes to answer, in order; once used up, 200.
    statuses: list[int] = field(default_factory=list)

    def verified(self) -> list[dict[str, Any]]:
        """The requests whose signature matches the body, as decoded JSON."""
        out = []
        for request in self.requests:
            expected = "sha256=" + hmac.new(self.secret.encode(), request["body"], hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, request["headers"].get("X-Souverain-Signature", "")):
                out.append(json.loads(request["body"]))
        return out


@pytest.fixture
def webhook_receiver():
    receiver = Receiver(url="", secret="s3cret-hook-key")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"receiver says no")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/souverain"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def run_jobs():
    """Run every queued job of the given kinds (all when none given), as a worker would; returns them."""
    from souverain.jobs import services as jobs
    from souverain.jobs.models import Job

    def run(*kinds: str) -> list[Job]:
        done = []
        while True:
            queued = Job.objects.filter(status=Job.Status.QUEUED)
            if kinds:
                queued = queued.filter(kind__in=kinds)
            job = queued.order_by("pk").first()
            if job is None:
                return done
            done.append(jobs.run_job(job.pk, worker="test"))

    return run

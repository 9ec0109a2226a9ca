"""Notifications: what ``notify`` costs the caller (its request thread), and delivery throughput to a real SMTP
server and a real webhook receiver on loopback.

Run: .venv/bin/python bench/notifications.py [--notifications 200] [--subscriptions 10]
Uses its own PostgreSQL database (BENCH_DATABASE_URL, default souverain_bench_notifications, recreated; see
benchdb.py). ``--subscriptions`` e-mail and as many webhook subscriptions (signed) hear every event: each notify
writes one notification, 2 x N deliveries and an audit record in one transaction, and queues one job; the
deliveries are then sent by running the jobs one after another (one worker), as the in-process worker would.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchdb  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--notifications", type=int, default=200)
parser.add_argument("--subscriptions", type=int, default=10)
args = parser.parse_args()

URL = benchdb.bench_url("souverain_bench_notifications")
benchdb.recreate(URL)
os.environ["DATABASE_URL"] = URL
os.environ["SOUVERAIN_AUDIT_KEY_FILE"] = str(Path(tempfile.mkdtemp(prefix=benchdb.TEMP_PREFIX)) / "key.pem")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
import django  # noqa: E402

django.setup()
from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from souverain.jobs import services as jobs  # noqa: E402
from souverain.jobs.models import Job  # noqa: E402
from souverain.notifications import services  # noqa: E402
from souverain.notifications.models import Channel, Delivery, Subscription  # noqa: E402

call_command("migrate", verbosity=0)


class Mailbox:
    count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        Mailbox.count += 1
        return "250 OK"


class Hook(BaseHTTPRequestHandler):
    count = 0

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Hook.count += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a) -> None:  # noqa: ANN002
        pass


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


smtp = Controller(Mailbox(), hostname="127.0.0.1", port=free_port())
smtp.start()
http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=http.serve_forever, daemon=True).start()
settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port

for i in range(args.subscriptions):
    Subscription.objects.create(name=f"mail {i}", channel=Channel.EMAIL, email=f"soc{i}@operator.example")
    hook = Subscription(name=f"hook {i}", channel=Channel.WEBHOOK,
                        url=f"http://127.0.0.1:{http.server_address[1]}/hook/{i}")
    hook.secret = f"secret-{i}"
    hook.save()

cpu0, times = time.process_time(), []
for i in range(args.notifications):
    start = time.perf_counter()
    services.notify("alert.bench", subject={"en": f"Bench {i}", "fr": f"Banc {i}"}, body="body",
                    link="/sync/", payload={"i": i})
    times.append(time.perf_counter() - start)
notify_cpu = time.process_time() - cpu0
print(f"notify: {args.notifications} calls, {2 * args.subscriptions} deliveries each; median "
      f"{statistics.median(times) * 1000:.1f} ms, p95 {sorted(times)[int(len(times) * 0.95)] * 1000:.1f} ms "
      f"(CPU {notify_cpu / args.notifications * 1000:.1f} ms per call)")

start, cpu0 = time.perf_counter(), time.process_time()
for job_id in Job.objects.filter(kind=services.JOB_KIND, status=Job.Status.QUEUED).order_by("pk").values_list(
        "pk", flat=True):
    jobs.run_job(job_id, worker="bench")
elapsed = time.perf_counter() - start
sent = Delivery.objects.filter(status=Delivery.Status.SENT).count()
print(f"delivery: {sent} sent ({Mailbox.count} mails, {Hook.count} webhooks) in {elapsed:.1f} s = "
      f"{sent / elapsed:.0f}/s with one worker (process CPU {time.process_time() - cpu0:.1f} s)")
print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
smtp.stop()
http.shutdown()

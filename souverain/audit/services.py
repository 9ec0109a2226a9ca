"""The audit trail: one append-only, hash-chained log of every mutation and security event, signed checkpoints,
export and verification.

What is recorded. Every change-logged write (the history row's before/after, ``object.create/update/delete``),
logins and failed logins, API token issue, policy uploads, activations and deactivations, knowledge-base
releases, jobs starting and ending, and permission denials. The apps report them through
``souverain.core.events.emit`` (core cannot import this app); ``receivers.connect`` registers ``record_event``
as a recorder and connects Django's signals for the rest. A record runs in the caller's transaction: the
change and its record commit together, and a change whose record cannot be written fails.

The chain. Each record carries a sequence number (1, 2, 3 … with no gap), the time, the actor (username,
source api/portal/cli/job/system, request id), the action, the object (type, id, repr), its data (before/after
or details, JSON), the previous record's hash and its own: SHA-256 of its canonical form (sorted-keys compact
JSON, see ``chain.py``). Sequence numbers are ours, not the table's id: an id sequence skips values on every
rollback, so a gap would prove nothing, while a gap in ``seq`` is always a deleted record.

Serialised appends. Two transactions must never chain on the same head. Appending reads the head (the highest
seq) and inserts after it under one lock held to the end of the caller's transaction: on PostgreSQL a
transaction-level advisory lock (``pg_advisory_xact_lock``, no row to contend on and nothing to clean up); on
SQLite the database's write lock, which every transaction takes when it begins (the settings make them
``IMMEDIATE``). The price is that audited writes commit one after another; the benchmark (bench/audit.py)
measures it.

Checkpoints (the model of AWS CloudTrail's digest files). Hourly (beat entry ``audit-checkpoint``) and on
demand, a checkpoint covers the records appended since the previous one: first/last seq, count, time range,
the head hash, the previous checkpoint's hash; its canonical form is signed with the Ed25519 key of
``keys.py``, whose public half the API publishes (``/api/audit/public-key/``). It is written under the same lock.

Verify. ``verify`` streams the records in seq order in chunks (``iterator``; memory flat) through
``chain.Verifier``, which checks each record's hash, the seq sequence and the prev_hash links, every
checkpoint's hash, signature and links, that every checkpoint's head is the record it signed, and that the log
does not end before the last checkpoint. It locates the first bad record and says what is wrong: edited,
deleted, inserted, reordered, truncated. ``export`` writes checkpoints then records as JSON lines, which
``chain.verify_export`` checks offline (no Django, no database). The same lines go to syslog after each commit
when ``SOUVERAIN_AUDIT_SYSLOG`` is set (``syslog_export.py``: RFC 5424, a bounded queue, drops audited).

Who reads it. Operator admins and auditors not bound to a tenant read every record. Tenant users and
auditors bound to one tenant see no record: a record's before/after may name other tenants' objects, and a
partial chain proves nothing, so they get empty lists (verify tells them only counts and hashes). Nobody
writes through the API; only checkpoints can be asked for, by operator admins.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from souverain.core.context import current_actor
from souverain.core.events import Event

from . import chain, keys, syslog_export
from .models import AuditCheckpoint, AuditRecord

log = logging.getLogger(__name__)

#: Key of the PostgreSQL advisory lock serialising appends and checkpoints ("SOUVAUDT" as a big-endian int).
ADVISORY_LOCK_KEY = 0x534F555641554454 - (1 << 63)
#: Rows read per round trip when verifying or exporting.
CHUNK = 5000


def _lock_head(using: str) -> tuple[int, str] | None:
    """Take the append lock until the end of the transaction; return the head (seq, hash) as it is then."""
    connection = connections[using]
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    head_query = f"SELECT seq, hash FROM {table} ORDER BY seq DESC LIMIT 1"
    if connection.vendor != "postgresql":
        # SQLite: the transaction holds the database's write lock from BEGIN IMMEDIATE (settings), nothing to add.
        with connection.cursor() as cursor:
            cursor.execute(head_query)
            return cursor.fetchone()
    with connection.cursor() as cursor:
        # One round trip, two statements: under READ COMMITTED the second one's snapshot is taken after the
        # lock is granted, so it sees the head that the previous holder committed.
        cursor.execute(f"SELECT pg_advisory_xact_lock({int(ADVISORY_LOCK_KEY)}); {head_query}")
        cursor.nextset()
        return cursor.fetchone()


def _normalise(data: Any) -> dict[str, Any]:
    # Round-trip through JSON: dates become strings and the stored text is what gets hashed.
    value = json.loads(json.dumps(data if data is not None else {}, cls=DjangoJSONEncoder))
    return value if isinstance(value, dict) else {"value": value}


def append(action: str, *, object_type: str = "", object_id: str = "", object_repr: str = "",
           data: Any = None, username: str | None = None, source: str | None = None) -> AuditRecord:
    """Append one record, chained on the head, in the caller's transaction (or its own)."""
    actor = current_actor()
    using = router.db_for_write(AuditRecord)
    data_text = chain.canonical_json(_normalise(data))
    # No savepoint: a record that cannot be written must fail the caller's whole transaction anyway.
    with transaction.atomic(using=using, savepoint=False):
        head = _lock_head(using)
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, chain.GENESIS)
        now = timezone.now()
        fields = {
            "seq": seq, "time": chain.format_time(now),
            "username": (username if username is not None else actor.username if actor else "system")[:150],
            "source": (source or (actor.source if actor else "system"))[:16],
            "request_id": (actor.request_id if actor else "")[:64],
            "action": action[:64], "object_type": object_type[:100], "object_id": str(object_id)[:64],
            "object_repr": str(object_repr)[:200], "data": None, "prev_hash": prev_hash,
        }
        digest = chain.record_hash(fields, data_text)
        record = AuditRecord(**{**fields, "time": now, "data": data_text, "hash": digest})
        record.save(using=using)
        # To syslog once the caller's transaction commits (not at all if it rolls back): syslog_export.py.
        syslog_export.after_commit("record", record, using)
    return record


def record_event(event: Event) -> None:
    """The recorder ``receivers.connect`` registers with ``souverain.core.events``."""
    append(event.action, object_type=event.object_type, object_id=event.object_id, object_repr=event.object_repr,
           data=event.data, username=event.username, source=event.source)


# --- checkpoints -------------------------------------------------------------------------------------------


def checkpoint_fields(cp: AuditCheckpoint) -> dict[str, Any]:
    return {"number": cp.number, "time": chain.format_time(cp.time), "first_seq": cp.first_seq,
            "last_seq": cp.last_seq, "count": cp.count, "first_time": cp.first_time, "last_time": cp.last_time,
            "head_hash": cp.head_hash, "prev_hash": cp.prev_hash, "key_id": cp.key_id,
            "signature": cp.signature, "hash": cp.hash}


def make_checkpoint() -> AuditCheckpoint:
    """Sign the records appended since the last checkpoint (none: a checkpoint of nothing, still signed)."""
    private_key = keys.signing_key()
    using = router.db_for_write(AuditCheckpoint)
    with transaction.atomic(using=using):
        _lock_head(using)
        previous = AuditCheckpoint.objects.using(using).order_by("-number").first()
        first_seq = previous.last_seq + 1 if previous else 1
        head = AuditRecord.objects.using(using).order_by("-seq").first()
        last_seq = head.seq if head else 0
        first = AuditRecord.objects.using(using).filter(seq=first_seq).first() if last_seq >= first_seq else None
        fields: dict[str, Any] = {
            "number": previous.number + 1 if previous else 1,
            "time": chain.format_time(timezone.now()),
            "first_seq": first_seq, "last_seq": max(last_seq, first_seq - 1),
            "count": max(0, last_seq - first_seq + 1),
            "first_time": chain.format_time(first.time) if first else "",
            "last_time": chain.format_time(head.time) if first and head else "",
            "head_hash": head.hash if head else chain.GENESIS,
            "prev_hash": previous.hash if previous else chain.GENESIS,
            "key_id": chain.key_id(private_key.public_key()),
        }
        signature = chain.sign(private_key, fields)
        checkpoint = AuditCheckpoint(**{**fields, "time": dt.datetime.fromisoformat(fields["time"])},
                                     signature=signature, hash=chain.checkpoint_hash(fields))
        checkpoint.save(using=using)
        syslog_export.after_commit("checkpoint", checkpoint, using)
    return checkpoint


def public_key_pem() -> str:
    return chain.public_pem(keys.signing_key().public_key())


# --- reading, export, verify -------------------------------------------------------------------------------


def record_fields(record: AuditRecord) -> dict[str, Any]:
    return {"seq": record.seq, "time": chain.format_time(record.time), "username": record.username,
            "source": record.source, "request_id": record.request_id, "action": record.action,
            "object_type": record.object_type, "object_id": record.object_id, "object_repr": record.object_repr,
            "data": None, "prev_hash": record.prev_hash}


def as_export(record: AuditRecord) -> dict[str, Any]:
    fields = record_fields(record)
    fields["data"] = json.loads(record.data)
    return {"type": "record", **fields, "hash": record.hash}


def _bound(value: str | int | dt.datetime | None, *, upper: bool) -> Q:
    """``--from``/``--to``: a sequence number, or a date or time (a date's whole day is included)."""
    if value is None or value == "":
        return Q()
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return Q(seq__lte=int(value)) if upper else Q(seq__gte=int(value))
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r}: neither a sequence number nor an ISO date or time") from exc
        if upper and len(value) == 10:
            moment += dt.timedelta(days=1)
            return Q(time__lt=moment if moment.tzinfo else timezone.make_aware(moment, dt.UTC))
    else:
        moment = value
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment, dt.UTC)
    return Q(time__lte=moment) if upper else Q(time__gte=moment)


def records_between(start: Any = None, end: Any = None) -> Any:
    return AuditRecord.objects.filter(_bound(start, upper=False) & _bound(end, upper=True)).order_by("seq")


def _rows(queryset: Any) -> Iterator[tuple[dict[str, Any], str, str]]:
    columns = ("seq", "time", "username", "source", "request_id", "action", "object_type", "object_id",
               "object_repr", "data", "prev_hash", "hash")
    for row in queryset.values_list(*columns).iterator(chunk_size=CHUNK):
        fields = dict(zip(columns, row, strict=True))
        fields["time"] = chain.format_time(fields["time"])
        data_text = fields.pop("data")
        fields["data"] = None
        yield fields, data_text, fields["hash"]


def _checkpoints_within(queryset: Any) -> Any:
    first = queryset.values_list("seq", flat=True).first()
    last = queryset.order_by("-seq").values_list("seq", flat=True).first()
    if first is None:
        return AuditCheckpoint.objects.none()
    return AuditCheckpoint.objects.filter(first_seq__gte=first, last_seq__lte=last).order_by("number")


def export_objects(start: Any = None, end: Any = None) -> tuple[Iterator[AuditRecord], Any]:
    """The records of a range (streamed) and the checkpoints within it: what ``export_lines`` writes, as rows
    (``souverain audit export --syslog`` formats them as the live syslog export does)."""
    queryset = records_between(start, end)
    return queryset.iterator(chunk_size=CHUNK), _checkpoints_within(queryset)


def export_lines(start: Any = None, end: Any = None) -> Iterator[str]:
    """JSON lines for a SIEM or an offline verify: the checkpoints within the range, then its records."""
    queryset = records_between(start, end)
    for cp in _checkpoints_within(queryset):
        yield json.dumps({"type": "checkpoint", **checkpoint_fields(cp)}, ensure_ascii=False)
    for fields, data_text, _ in _rows(queryset):
        fields["data"] = json.loads(data_text)
        yield json.dumps({"type": "record", **fields}, ensure_ascii=False)


def verify(start: Any = None, end: Any = None) -> chain.Report:
    """Recompute the chain (or a range of it) and check every checkpoint that falls in it."""
    queryset = records_between(start, end)
    first = queryset.values_list("seq", "prev_hash").first()
    anchor = None
    if start not in (None, "") and first is not None and first[0] > 1:
        before = AuditRecord.objects.filter(seq__lt=first[0]).order_by("-seq").values_list("seq", "hash").first()
        # The record before the range, when it is there; otherwise the range's own first link (verify says the
        # gap when the whole log is verified).
        anchor = before if before is not None else (first[0] - 1, first[1])
    to_the_end = end in (None, "")
    checkpoints = AuditCheckpoint.objects.order_by("number")
    if first is not None:
        checkpoints = checkpoints.filter(first_seq__gte=first[0])
    if not to_the_end:
        last = queryset.order_by("-seq").values_list("seq", flat=True).first() or 0
        checkpoints = checkpoints.filter(last_seq__lte=last)
    verifier = chain.Verifier(keys.signing_key().public_key(), [checkpoint_fields(cp) for cp in checkpoints], anchor)
    if first is None:
        return verifier.finish()
    if queryset.db and connections[queryset.db].vendor == "postgresql":
        last = queryset.order_by("-seq").values_list("seq", flat=True).first()
        verifier.feed_text_rows(_copy_rows(queryset.db, first[0], last))
    else:
        for fields, data_text, _ in _rows(queryset):
            verifier.feed(fields, data_text)
    return verifier.finish()


#: Bytes read from a COPY stream before its complete lines are split.
COPY_BLOCK = 1 << 20
_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _copy_unescape(value: str) -> str:
    """A field of PostgreSQL's COPY text format as it was stored (backslash escapes; our columns are NOT NULL)."""
    if "\\" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        char = value[i]
        if char != "\\" or i + 1 == len(value):
            out.append(char)
            i += 1
            continue
        code = value[i + 1]
        if code in "01234567":
            j = i + 1
            while j < len(value) and j < i + 4 and value[j] in "01234567":
                j += 1
            out.append(chr(int(value[i + 1:j], 8)))
            i = j
            continue
        out.append(_COPY_ESCAPES.get(code, code))
        i += 2
    return "".join(out)


def _copy_rows(using: str, first: int, last: int) -> Iterator[list[str]]:
    """The records seq ``first``..``last`` in seq order, as text fields (``RECORD_FIELDS`` then ``hash``), streamed
    by ``COPY … TO STDOUT``: no per-row objects, no datetime parsing, memory flat (one block at a time). The
    time comes formatted by the server as the canonical form has it (UTC, microseconds, ``Z``)."""
    table = connections[using].ops.quote_name(AuditRecord._meta.db_table)
    sql = ("COPY (SELECT seq, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), username, "
           "source, request_id, action, object_type, object_id, object_repr, data, prev_hash, hash "
           f"FROM {table} WHERE seq BETWEEN {int(first)} AND {int(last)} ORDER BY seq) TO STDOUT")
    with connections[using].cursor() as cursor, cursor.copy(sql) as copy:
        blocks: list[bytes] = []
        size = 0
        for block in copy:
            blocks.append(bytes(block))
            size += len(block)
            if size < COPY_BLOCK:
                continue
            pending = b"".join(blocks)
            cut = pending.rfind(b"\n") + 1
            yield from _split_copy(pending[:cut].decode())
            blocks, size = [pending[cut:]], len(pending) - cut
        yield from _split_copy(b"".join(blocks).decode())


def _split_copy(text: str) -> Iterator[list[str]]:
    for line in text.split("\n"):
        if line:
            fields = line.split("\t")
            yield [_copy_unescape(f) for f in fields] if "\\" in line else fields

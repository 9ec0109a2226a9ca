"""The audit chain's format and its verification, on plain data: no Django, no database.

``souverain audit verify --file audit.jsonl --public-key key.pem`` runs this module alone, on an export, on a
machine that has neither the server's settings nor its database; the server's own verify feeds it the rows of
the database. See ``souverain/audit/services.py`` for the design of the trail.

Canonical form. A record's hash is the SHA-256 of the UTF-8 bytes of the JSON object of its fields
``RECORD_FIELDS`` (its ``hash`` excluded, ``prev_hash`` included), with keys sorted, no whitespace
(``separators=(",", ":")``), non-ASCII characters as themselves (``ensure_ascii=False``), no NaN or infinity;
``time`` is UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; ``data`` is a JSON object. A checkpoint's hash is the same
over ``CHECKPOINT_FIELDS``, and its Ed25519 signature signs exactly those canonical bytes. The first record's
``prev_hash``, and the first checkpoint's, is ``GENESIS`` (64 zeros).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64
RECORD_FIELDS = ("seq", "time", "username", "source", "request_id", "action", "object_type", "object_id",
                 "object_repr", "data", "prev_hash")
CHECKPOINT_FIELDS = ("number", "time", "first_seq", "last_seq", "count", "first_time", "last_time",
                     "head_hash", "prev_hash", "key_id")
#: Problems listed in one report: the first one locates the damage, the rest only say there is more.
MAX_PROBLEMS = 100


# One encoder, made once: json.dumps with options builds a new one per call, a third of verify's time.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def format_time(value: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (isoformat: twice as fast as strftime, on every record verified)."""
    if value.utcoffset() != dt.timedelta(0):
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def record_canonical(record: Mapping[str, Any], data_text: str | None = None) -> bytes:
    """The canonical bytes of a record. ``data_text``: its ``data`` already as canonical JSON text (the database
    stores it so), spliced in rather than parsed and dumped again; the bytes are the same."""
    if data_text is None:
        return canonical_json({name: record[name] for name in RECORD_FIELDS}).encode()
    fields = {name: record[name] for name in RECORD_FIELDS if name != "data"}
    fields["data"] = None
    text = canonical_json(fields)
    # Keys are sorted, so "action" (a string, whose quotes are escaped) comes first and the first unescaped
    # ',"data":null' is the key itself.
    return text.replace(',"data":null', f',"data":{data_text}', 1).encode()


def record_hash(record: Mapping[str, Any], data_text: str | None = None) -> str:
    return hashlib.sha256(record_canonical(record, data_text)).hexdigest()


# The canonical form written out field by field, for verify's fast path (10 M records: a dict and an encoder call
# per record cost more than everything else together). The same string escaper as the encoder above
# (``ensure_ascii=False``), the same key order (sorted: checked on import), so the same bytes: a test compares
# the two on awkward values.
_escape = json.encoder.encode_basestring
assert tuple(sorted(RECORD_FIELDS)) == ("action", "data", "object_id", "object_repr", "object_type", "prev_hash",
                                        "request_id", "seq", "source", "time", "username")


def record_canonical_text(seq: str, time: str, username: str, source: str, request_id: str, action: str,
                          object_type: str, object_id: str, object_repr: str, data_text: str, prev_hash: str) -> bytes:
    """``record_canonical`` from the fields as text (``seq`` as its decimal digits, ``data_text`` canonical JSON),
    in the order of ``RECORD_FIELDS``: the order of the columns a row comes in."""
    e = _escape
    return (f'{{"action":{e(action)},"data":{data_text},"object_id":{e(object_id)},"object_repr":{e(object_repr)},'
            f'"object_type":{e(object_type)},"prev_hash":{e(prev_hash)},"request_id":{e(request_id)},"seq":{seq},'
            f'"source":{e(source)},"time":{e(time)},"username":{e(username)}}}').encode()


def checkpoint_canonical(checkpoint: Mapping[str, Any]) -> bytes:
    return canonical_json({name: checkpoint[name] for name in CHECKPOINT_FIELDS}).encode()


def checkpoint_hash(checkpoint: Mapping[str, Any]) -> str:
    return hashlib.sha256(checkpoint_canonical(checkpoint)).hexdigest()


# --- keys --------------------------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_pem(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key


def sign(private_key: Ed25519PrivateKey, checkpoint: Mapping[str, Any]) -> str:
    return base64.b64encode(private_key.sign(checkpoint_canonical(checkpoint))).decode()


def signature_ok(public_key: Ed25519PublicKey, checkpoint: Mapping[str, Any]) -> bool:
    try:
        public_key.verify(base64.b64decode(checkpoint["signature"], validate=True), checkpoint_canonical(checkpoint))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# --- verification ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    seq: int | None  # the first record concerned; None for a problem of a checkpoint alone
    kind: str  # edited, deleted, inserted, reordered, truncated, checkpoint
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "message": self.message}


@dataclass
class Report:
    records: int = 0
    checkpoints: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    head_hash: str = ""
    problems: list[Problem] = field(default_factory=list)
    more_problems: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "records": self.records, "checkpoints": self.checkpoints,
                "first_seq": self.first_seq, "last_seq": self.last_seq, "head_hash": self.head_hash,
                "first_bad_seq": self.first_bad_seq, "problems": [p.as_dict() for p in self.problems],
                "more_problems": self.more_problems}


class Verifier:
    """Feed records in sequence order (``feed``), then ``finish``; memory stays flat whatever the count.

    ``checkpoints`` (few: one an hour) are checked first: hash, signature, the chain of checkpoints, counts.
    ``anchor`` is the (seq, hash) of the record before the first one fed, when verifying from the middle;
    without one the first record must be seq 1 with the genesis ``prev_hash``.
    """

    def __init__(self, public_key: Ed25519PublicKey | None, checkpoints: Iterable[Mapping[str, Any]] = (),
                 anchor: tuple[int, str] | None = None) -> None:
        self.report = Report()
        self.expected_seq, self.prev_hash = (anchor[0] + 1, anchor[1]) if anchor else (1, GENESIS)
        self.anchored = anchor is not None
        # The hash of the record before the previous one: a record whose prev_hash is that one follows an
        # inserted record.
        self.prev_prev_hash: str | None = None
        self.prev_seq: int | None = None
        self.prev_moved_from: int | None = None
        self.heads: dict[int, list[Mapping[str, Any]]] = {}
        self.starts: dict[int, list[Mapping[str, Any]]] = {}
        self._check_checkpoints(public_key, list(checkpoints))

    def problem(self, seq: int | None, kind: str, message: str) -> None:
        if len(self.report.problems) >= MAX_PROBLEMS:
            self.report.more_problems = True
            return
        self.report.problems.append(Problem(seq, kind, message))

    def _check_checkpoints(self, public_key: Ed25519PublicKey | None, checkpoints: list[Mapping[str, Any]]) -> None:
        checkpoints.sort(key=lambda c: c["number"])
        previous: Mapping[str, Any] | None = None
        for cp in checkpoints:
            number = cp["number"]
            self.report.checkpoints += 1
            if checkpoint_hash(cp) != cp.get("hash"):
                self.problem(None, "checkpoint", f"checkpoint #{number}: its content does not match its hash "
                                                 "(edited)")
            if public_key is None:
                self.problem(None, "checkpoint", f"checkpoint #{number}: no public key to check its signature")
            elif cp.get("key_id") != key_id(public_key):
                self.problem(None, "checkpoint", f"checkpoint #{number}: signed by key {cp.get('key_id')}, not by "
                                                 f"the given key {key_id(public_key)}")
            elif not signature_ok(public_key, cp):
                self.problem(None, "checkpoint", f"checkpoint #{number}: bad signature")
            if previous is not None:
                if number != previous["number"] + 1:
                    self.problem(None, "checkpoint", f"checkpoints #{previous['number'] + 1} to #{number - 1} "
                                                     "are missing")
                elif cp["prev_hash"] != previous["hash"]:
                    self.problem(None, "checkpoint", f"checkpoint #{number}: its prev_hash is not checkpoint "
                                                     f"#{previous['number']}'s hash")
                elif cp["first_seq"] != previous["last_seq"] + 1:
                    self.problem(None, "checkpoint", f"checkpoint #{number} starts at seq {cp['first_seq']}, "
                                                     f"not after checkpoint #{previous['number']}")
            elif number == 1 and cp["prev_hash"] != GENESIS:
                self.problem(None, "checkpoint", "checkpoint #1: its prev_hash is not the genesis hash")
            if cp["count"] != max(0, cp["last_seq"] - cp["first_seq"] + 1):
                self.problem(None, "checkpoint", f"checkpoint #{number}: count {cp['count']} does not match "
                                                 f"seq {cp['first_seq']}..{cp['last_seq']}")
            if cp["count"]:
                self.heads.setdefault(cp["last_seq"], []).append(cp)
                self.starts.setdefault(cp["first_seq"], []).append(cp)
            previous = cp

    def feed(self, record: Mapping[str, Any], data_text: str | None = None) -> None:
        report = self.report
        seq = record["seq"]
        report.records += 1
        if report.first_seq is None:
            report.first_seq = seq
        own_hash = record_hash(record, data_text)
        moved_from = None
        if own_hash != record["hash"]:
            moved_from = self._written_as(record, data_text)
            if self.prev_seq is not None and seq == self.prev_seq:
                self.problem(seq, "inserted", f"seq {seq} appears twice")
            elif moved_from == seq - 1 and self.prev_moved_from is None:
                # The records from here on were pushed one place down, behind a record that checks: inserted.
                self.problem(seq - 1, "inserted", f"seq {seq - 1} was inserted: seq {seq} holds the record "
                                                  f"written as seq {seq - 1}")
            elif moved_from is not None and self.prev_moved_from is not None \
                    and moved_from - seq == self.prev_moved_from - (seq - 1):
                pass  # the same shift as the record before: already reported there
            elif moved_from is not None:
                self.problem(seq, "reordered", f"seq {seq} holds the record written as seq {moved_from} "
                                               "(records reordered, or one deleted and the rest renumbered)")
            else:
                self.problem(seq, "edited", f"seq {seq}: its content does not match its hash (edited)")
        elif seq > self.expected_seq:
            last = self.expected_seq if seq == self.expected_seq + 1 else f"{self.expected_seq}..{seq - 1}"
            self.problem(self.expected_seq, "deleted", f"seq {last} missing before seq {seq} (deleted)")
        elif seq < self.expected_seq:
            self.problem(seq, "reordered", f"seq {seq} comes after seq {self.expected_seq - 1} (reordered)")
        elif record["prev_hash"] != self.prev_hash:
            if self.prev_prev_hash is not None and record["prev_hash"] == self.prev_prev_hash:
                self.problem(seq - 1, "inserted", f"seq {seq - 1} was inserted: seq {seq} chains on the record "
                                                  f"before it")
            elif seq == 1 or (self.anchored and report.records == 1):
                self.problem(seq, "edited", f"seq {seq}: its prev_hash is not the hash it must follow")
            else:
                self.problem(seq, "reordered", f"seq {seq}: its prev_hash is not seq {seq - 1}'s hash (a record "
                                               "inserted, removed or moved before it)")
        for cp in self.starts.get(seq, ()):
            if cp["first_time"] != record["time"]:
                self.problem(seq, "edited", f"checkpoint #{cp['number']} says seq {seq} was written at "
                                            f"{cp['first_time']}, the record says {record['time']}")
        for cp in self.heads.get(seq, ()):
            if cp["head_hash"] != record["hash"] or cp["last_time"] != record["time"]:
                self.problem(seq, "edited", f"checkpoint #{cp['number']} signed seq {seq} with hash "
                                            f"{cp['head_hash'][:16]}…, the log has {record['hash'][:16]}…")
        self.prev_prev_hash, self.prev_hash = self.prev_hash, record["hash"]
        self.prev_seq = seq
        self.prev_moved_from = moved_from
        self.expected_seq = max(self.expected_seq, seq + 1)
        report.last_seq = seq
        report.head_hash = record["hash"]

    def feed_text_rows(self, rows: Iterable[Sequence[str]]) -> None:
        """Feed rows of text: the ``RECORD_FIELDS`` in order (``seq`` as digits, ``data`` as its canonical JSON
        text), then the stored ``hash``. A record whose hash checks and that follows its predecessor in seq and
        hash, and that no checkpoint starts or ends on, only moves the state on; any other goes through ``feed``,
        which says what is wrong (the same report, many times faster)."""
        canonical, sha256, feed = record_canonical_text, hashlib.sha256, self.feed
        heads, starts, report = self.heads, self.starts, self.report
        for row in rows:
            seq_text, prev_hash, stored = row[0], row[10], row[11]
            seq = int(seq_text)
            if (seq != self.expected_seq or prev_hash != self.prev_hash or seq in heads or seq in starts
                    or sha256(canonical(*row[:11])).hexdigest() != stored):
                fields = dict(zip(RECORD_FIELDS, row, strict=False))
                fields["seq"], fields["data"], fields["hash"] = seq, None, stored
                feed(fields, row[9])
                continue
            report.records += 1
            if report.first_seq is None:
                report.first_seq = seq
            self.prev_prev_hash, self.prev_hash = self.prev_hash, stored
            self.prev_seq, self.prev_moved_from, self.expected_seq = seq, None, seq + 1
            report.last_seq, report.head_hash = seq, stored

    @staticmethod
    def _written_as(record: Mapping[str, Any], data_text: str | None) -> int | None:
        """The neighbouring sequence number under which this record's hash checks, if any (a moved record)."""
        for other in (record["seq"] + 1, record["seq"] - 1):
            if record_hash({**record, "seq": other}, data_text) == record["hash"]:
                return other
        return None

    def finish(self) -> Report:
        last = self.report.last_seq if self.report.last_seq is not None else self.expected_seq - 1
        beyond = [cp for seq, cps in self.heads.items() if seq > last for cp in cps]
        if beyond:
            cp = max(beyond, key=lambda c: c["last_seq"])
            self.problem(last + 1, "truncated", f"the log ends at seq {last}, but checkpoint #{cp['number']} signed "
                                                f"records up to seq {cp['last_seq']} (truncated)")
        return self.report


def read_export(lines: Iterable[str]) -> tuple[list[dict[str, Any]], Iterable[dict[str, Any]]]:
    """Split an export (JSON lines: checkpoints first, then records) into its checkpoints and a record stream."""
    iterator = iter(lines)
    checkpoints: list[dict[str, Any]] = []
    first_record: dict[str, Any] | None = None
    for number, line in enumerate(iterator, 1):
        if not line.strip():
            continue
        item = _parse_line(line, number)
        if item.pop("type", None) == "checkpoint":
            checkpoints.append(item)
        else:
            first_record = item
            break
    start = number if first_record is not None else 0

    def records() -> Iterable[dict[str, Any]]:
        if first_record is None:
            return
        yield first_record
        for offset, line in enumerate(iterator, start + 1):
            if line.strip():
                item = _parse_line(line, offset)
                if item.pop("type", None) != "record":
                    raise ValueError(f"line {offset}: a checkpoint after the records")
                yield item

    return checkpoints, records()


def _parse_line(line: str, number: int) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except ValueError as exc:
        raise ValueError(f"line {number}: not JSON ({exc})") from exc
    if not isinstance(item, dict) or item.get("type") not in ("record", "checkpoint"):
        raise ValueError(f"line {number}: neither a record nor a checkpoint")
    return item


def verify_export(lines: Iterable[str], public_key: Ed25519PublicKey | None) -> Report:
    """Verify an export offline. A record stream that starts after seq 1 is anchored on its first record's
    prev_hash (a range export proves its own continuity, and the checkpoints it carries)."""
    checkpoints, records = read_export(lines)
    verifier: Verifier | None = None
    for record in records:
        if verifier is None:
            anchor = (record["seq"] - 1, record["prev_hash"]) if record["seq"] > 1 else None
            verifier = Verifier(public_key, checkpoints, anchor)
        try:
            verifier.feed(record)
        except (KeyError, TypeError, ValueError) as exc:
            verifier.problem(record.get("seq"), "edited", f"seq {record.get('seq')}: malformed record ({exc})")
    if verifier is None:
        verifier = Verifier(public_key, checkpoints)
    return verifier.finish()

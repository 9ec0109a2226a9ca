"""The chain and its verification on the database: an untouched log verifies; each kind of tampering, done with
raw SQL as an administrator with database access would, is found and located (first bad seq, what is wrong).

Run on SQLite by default and on PostgreSQL with DATABASE_URL (see the README); the raw SQL is the same.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection

from souverain.audit import chain, services
from souverain.audit.models import AppendOnly, AuditRecord

pytestmark = pytest.mark.django_db


def _fill(n: int = 10) -> None:
    for i in range(1, n + 1):
        services.append("test.event", object_type="test.thing", object_id=str(i), object_repr=f"thing {i}",
                        data={"i": i, "name": f"thing {i}", "nested": {"b": [1, 2.5, None], "a": "é"}})


def _sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _forge(seq: int, prev_hash: str, **extra: object) -> dict:
    fields = {"seq": seq, "time": "2026-01-01T00:00:00.000000Z", "username": "mallory", "source": "api",
              "request_id": "", "action": "test.forged", "object_type": "", "object_id": "", "object_repr": "",
              "data": {"forged": True}, "prev_hash": prev_hash, **extra}
    return {**fields, "hash": chain.record_hash(fields)}


def _insert(record: dict) -> None:
    _sql("INSERT INTO audit_auditrecord (seq, time, username, source, request_id, action, object_type, object_id,"
         " object_repr, data, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
         [record["seq"], "2026-01-01 00:00:00", record["username"], record["source"], record["request_id"],
          record["action"], record["object_type"], record["object_id"], record["object_repr"],
          chain.canonical_json(record["data"]), record["prev_hash"], record["hash"]])


def _hash(seq: int) -> str:
    return AuditRecord.objects.get(seq=seq).hash


def test_an_untouched_log_verifies_with_its_checkpoints():
    _fill(10)
    services.make_checkpoint()
    _fill(3)
    services.make_checkpoint()
    services.make_checkpoint()  # nothing new: still signed and chained
    report = services.verify()
    assert report.ok, report.problems
    assert (report.records, report.checkpoints, report.first_seq, report.last_seq) == (13, 3, 1, 13)


def test_records_are_append_only_through_the_orm():
    _fill(1)
    record = AuditRecord.objects.get()
    record.username = "mallory"
    with pytest.raises(AppendOnly):
        record.save()
    with pytest.raises(AppendOnly):
        record.delete()


def test_an_edited_record_is_found():
    _fill(10)
    _sql("UPDATE audit_auditrecord SET data = %s WHERE seq = 5", [json.dumps({"i": 50})])
    report = services.verify()
    assert not report.ok
    assert report.first_bad_seq == 5
    assert report.problems[0].kind == "edited"
    assert len(report.problems) == 1  # the chain after it still links to its stored hash: one problem, not six


def test_an_edited_actor_is_found():
    _fill(10)
    _sql("UPDATE audit_auditrecord SET username = 'someone-else' WHERE seq = 7")
    report = services.verify()
    assert (report.first_bad_seq, report.problems[0].kind) == (7, "edited")


def test_a_deleted_record_is_found():
    _fill(10)
    _sql("DELETE FROM audit_auditrecord WHERE seq = 4")
    report = services.verify()
    assert (report.first_bad_seq, report.problems[0].kind) == (4, "deleted")
    assert "seq 4 missing" in report.problems[0].message


def test_deleted_first_records_are_found():
    _fill(5)
    _sql("DELETE FROM audit_auditrecord WHERE seq <= 2")
    report = services.verify()
    assert (report.first_bad_seq, report.problems[0].kind) == (1, "deleted")


def test_an_inserted_record_is_found_even_when_forged_with_a_correct_hash():
    _fill(10)
    # Make room at seq 5 (negate then shift, so the unique index never sees two equal values) and forge a record
    # that chains correctly on seq 4.
    _sql("UPDATE audit_auditrecord SET seq = -seq WHERE seq >= 5")
    _sql("UPDATE audit_auditrecord SET seq = -seq + 1 WHERE seq < 0")
    _insert(_forge(5, _hash(4)))
    report = services.verify()
    assert (report.first_bad_seq, report.problems[0].kind) == (5, "inserted")
    assert len(report.problems) == 1


def test_a_naively_inserted_record_is_found():
    _fill(6)
    _sql("DELETE FROM audit_auditrecord WHERE seq = 6")  # room for it at the tail
    forged = _forge(6, _hash(5))
    forged["hash"] = "f" * 64
    _insert(forged)
    report = services.verify()
    assert (report.first_bad_seq, report.problems[0].kind) == (6, "edited")


def test_a_reordering_is_found():
    _fill(10)
    _sql("UPDATE audit_auditrecord SET seq = -1 WHERE seq = 6")
    _sql("UPDATE audit_auditrecord SET seq = 6 WHERE seq = 7")
    _sql("UPDATE audit_auditrecord SET seq = 7 WHERE seq = -1")
    report = services.verify()
    assert (report.first_bad_seq, report.problems[0].kind) == (6, "reordered")
    assert "written as seq 7" in report.problems[0].message


def test_a_truncated_tail_is_found_against_the_last_checkpoint():
    _fill(10)
    services.make_checkpoint()
    _sql("DELETE FROM audit_auditrecord WHERE seq > 7")
    report = services.verify()
    assert (report.first_bad_seq, report.problems[0].kind) == (8, "truncated")
    assert "checkpoint #1" in report.problems[0].message


def test_a_truncated_tail_cannot_be_hidden_by_appending_again():
    _fill(10)
    services.make_checkpoint()
    _sql("DELETE FROM audit_auditrecord WHERE seq > 7")
    _fill(3)  # honest appends after the truncation chain on seq 7 and reuse seq 8..10
    report = services.verify()
    assert report.first_bad_seq == 10
    assert any("checkpoint #1 signed seq 10" in p.message for p in report.problems)


def test_an_edited_or_forged_checkpoint_is_found():
    _fill(5)
    services.make_checkpoint()
    _sql("UPDATE audit_auditcheckpoint SET count = 4, first_seq = 2 WHERE number = 1")
    report = services.verify()
    assert not report.ok
    assert any("checkpoint #1" in p.message and "hash" in p.message for p in report.problems)


def test_a_range_verifies_alone():
    _fill(20)
    services.make_checkpoint()
    assert services.verify(5, 12).ok
    _sql("UPDATE audit_auditrecord SET object_repr = 'x' WHERE seq = 15")
    assert services.verify(5, 12).ok
    assert services.verify(13, None).first_bad_seq == 15


AWKWARD = ['plain', 'quote " and backslash \\', "tab\tnew\nline\rcr", "é ü 中文 \u2028 \U0001f600", "\x00\x01\x1f\x7f",
           "", "\\N", "\\t literally"]


@pytest.mark.django_db(False)
def test_the_fast_canonical_form_is_the_canonical_form():
    for i, text in enumerate(AWKWARD):
        data = {"text": text, "n": [1, 2.5, -3, None, True], "nested": {"z": text, "a": {}}}
        fields = {"seq": 10 ** i, "time": "2026-01-01T00:00:00.000001Z", "username": text, "source": text,
                  "request_id": text, "action": text, "object_type": text, "object_id": text, "object_repr": text,
                  "data": data, "prev_hash": text}
        fast = chain.record_canonical_text(*(str(v) if k == "seq" else chain.canonical_json(v) if k == "data" else v
                                             for k, v in fields.items()))
        assert fast == chain.record_canonical(fields)


def test_awkward_values_verify_and_are_checked_byte_for_byte():
    """Tabs, newlines, backslashes and non-ASCII text survive the way verify reads the table (on PostgreSQL a
    COPY stream, whose text format escapes them), and an edit of one character is still found."""
    for i, text in enumerate(AWKWARD):
        if "\x00" in text:
            text = text.replace("\x00", "")  # PostgreSQL text refuses NUL
        services.append("test.awkward", object_type="test.thing", object_id=str(i), object_repr=text,
                        data={"text": text}, username=text[:150])
    report = services.verify()
    assert report.ok, report.problems
    assert report.records == len(AWKWARD)
    _sql("UPDATE audit_auditrecord SET object_repr = %s WHERE seq = 3", ["tab\tnew\nline\rCR"])
    report = services.verify()
    assert (report.first_bad_seq, report.problems[0].kind) == (3, "edited")

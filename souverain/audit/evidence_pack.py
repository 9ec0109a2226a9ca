"""An evidence pack's container: a reproducible ZIP, its signed manifest, and its offline verification.

No Django, no database: ``souverain evidence verify pack.zip`` runs this module alone, on a machine that has
neither the server's settings nor its data (an auditor's laptop, months later). ``evidence.py`` gathers the
facts and calls ``write_pack``; see docs/evidence-packs.md.

Members, in this order: ``evidence.json`` (canonical JSON, the facts), ``report.pdf`` (the same facts for
people), ``manifest.json`` (the SHA-256 and size of each of those, the pack's date and format) and
``signature.json`` (Ed25519 over the manifest's exact bytes, the public key and its fingerprint — the same
``key_id`` as the audit checkpoints', since it is the same key).

Reproducible. Every member is stored (not deflated: a zlib upgrade would change the bytes), with the pack's
date at midnight as its time, fixed permissions and "Unix" as the creating system; no ZIP comment, no extra
field. So the same members give the same bytes, and verification can go further than checking the members:
it rebuilds the container from them and compares byte for byte, which catches a changed byte in a header or
the central directory too (the ``zipfile`` module ignores, for instance, a local header's date). A difference
is located: the member whose data or header holds the first differing byte, or the central directory.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .chain import key_id, load_public_pem, public_pem  # the audit key's own helpers (same key)

FORMAT = "souverain-evidence/1"
CONTENT_MEMBERS = ("evidence.json", "report.pdf")
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
MEMBERS = (*CONTENT_MEMBERS, MANIFEST, SIGNATURE)
_FILE_MODE = 0o100644 << 16  # a regular file, rw-r--r--
_UNIX = 3

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8, no NaN: one text for one value (the audit chain's form)."""
    return _CANONICAL.encode(value).encode()


def manifest_of(contents: Mapping[str, bytes], on: dt.date) -> bytes:
    return canonical_json({
        "format": FORMAT, "date": on.isoformat(),
        "members": [{"name": name, "sha256": hashlib.sha256(contents[name]).hexdigest(), "size": len(contents[name])}
                    for name in CONTENT_MEMBERS],
    })


def _zip(members: list[tuple[str, bytes]], on: dt.date) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(on.year, on.month, on.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = _UNIX
            info.external_attr = _FILE_MODE
            archive.writestr(info, data)
    return out.getvalue()


def write_pack(contents: Mapping[str, bytes], on: dt.date, private_key: Ed25519PrivateKey) -> bytes:
    """The signed ZIP of ``contents`` (``evidence.json`` and ``report.pdf``). Ed25519 signatures are
    deterministic (RFC 8032), so the whole pack is a function of its contents, its date and the key."""
    manifest = manifest_of(contents, on)
    public = private_key.public_key()
    signature = canonical_json({
        "algorithm": "Ed25519", "signed": MANIFEST, "key_id": key_id(public), "public_key": public_pem(public),
        "signature": base64.b64encode(private_key.sign(manifest)).decode(),
    })
    return _zip([*((name, contents[name]) for name in CONTENT_MEMBERS), (MANIFEST, manifest), (SIGNATURE, signature)],
                on)


# --- verification ------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    """What ``verify`` found: ``ok``, or problems each naming the member (or container part) at fault."""

    problems: list[dict[str, str]] = field(default_factory=list)
    key_id: str = ""
    date: str = ""
    members: list[dict[str, Any]] = field(default_factory=list)
    key_checked: bool = False  # against a public key given by the verifier, not only the one in the pack

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, member: str, message: str) -> None:
        self.problems.append({"member": member, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "date": self.date, "key_id": self.key_id, "key_checked": self.key_checked,
                "members": self.members, "problems": self.problems}


def _read_members(data: bytes, verdict: Verdict) -> dict[str, bytes] | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        verdict.problem("(zip container)", f"not a readable ZIP: {exc}")
        return None
    names = [info.filename for info in archive.infolist()]
    if names != list(MEMBERS):
        verdict.problem("(zip container)", f"members are {names}, expected {list(MEMBERS)}")
    contents: dict[str, bytes] = {}
    for name in MEMBERS:
        if name not in names:
            continue
        try:
            contents[name] = archive.read(name)
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, NotImplementedError) as exc:
            verdict.problem(name, f"cannot be read: {exc}")
    return contents


def _check_signature(contents: dict[str, bytes], public_key: Ed25519PublicKey | None, verdict: Verdict) -> None:
    try:
        signed = json.loads(contents[SIGNATURE])
        embedded = load_public_pem(signed["public_key"].encode())
        signature = base64.b64decode(signed["signature"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        verdict.problem(SIGNATURE, f"unreadable: {exc}")
        return
    verdict.key_id = str(signed.get("key_id", ""))
    if signed.get("key_id") != key_id(embedded):
        verdict.problem(SIGNATURE, "the key fingerprint does not match the public key it carries")
    key = embedded
    if public_key is not None:
        verdict.key_checked = True
        if key_id(public_key) != key_id(embedded):
            verdict.problem(SIGNATURE, f"signed with key {key_id(embedded)}, not with the given key "
                                       f"{key_id(public_key)}")
        key = public_key
    try:
        key.verify(signature, contents[MANIFEST])
    except InvalidSignature:
        verdict.problem(SIGNATURE, f"the signature does not match {MANIFEST}")


def _check_manifest(contents: dict[str, bytes], verdict: Verdict) -> dt.date | None:
    try:
        manifest = json.loads(contents[MANIFEST])
        on = dt.date.fromisoformat(manifest["date"])
        listed = {entry["name"]: entry for entry in manifest["members"]}
    except (ValueError, KeyError, TypeError) as exc:
        verdict.problem(MANIFEST, f"unreadable: {exc}")
        return None
    verdict.date = on.isoformat()
    if manifest.get("format") != FORMAT:
        verdict.problem(MANIFEST, f"format {manifest.get('format')!r}, expected {FORMAT!r}")
    for name in CONTENT_MEMBERS:
        entry = listed.get(name)
        if entry is None:
            verdict.problem(MANIFEST, f"does not list {name}")
            continue
        if name not in contents:
            continue
        digest = hashlib.sha256(contents[name]).hexdigest()
        verdict.members.append({"name": name, "sha256": digest, "size": len(contents[name])})
        if digest != entry.get("sha256") or len(contents[name]) != entry.get("size"):
            verdict.problem(name, f"its SHA-256 is {digest}, the signed manifest says {entry.get('sha256')}")
    if canonical_json(manifest) != contents[MANIFEST]:
        verdict.problem(MANIFEST, "not in canonical form")
    return on


def _locate(data: bytes, expected: bytes) -> tuple[str, int]:
    """The member whose header or data holds the first byte where ``data`` differs from ``expected``."""
    offset = next((i for i, (a, b) in enumerate(zip(data, expected, strict=False)) if a != b),
                  min(len(data), len(expected)))
    archive = zipfile.ZipFile(io.BytesIO(expected))
    infos = archive.infolist()
    directory = archive.start_dir
    for info, following in zip(infos, [*infos[1:], None], strict=True):
        end = following.header_offset if following is not None else directory
        if info.header_offset <= offset < end:
            return info.filename, offset
    return "(zip central directory)", offset


def verify(data: bytes, public_key: Ed25519PublicKey | None = None) -> Verdict:
    """Check a pack's bytes: every member against the signed manifest, the signature (against ``public_key``
    when given, else only against the key the pack carries), and the container byte for byte."""
    verdict = Verdict()
    contents = _read_members(data, verdict)
    if contents is None:
        return verdict
    if MANIFEST not in contents or SIGNATURE not in contents:
        verdict.problem("(zip container)", f"{MANIFEST} or {SIGNATURE} is missing")
        return verdict
    _check_signature(contents, public_key, verdict)
    on = _check_manifest(contents, verdict)
    if on is not None and all(name in contents for name in MEMBERS):
        expected = _zip([(name, contents[name]) for name in MEMBERS], on)
        if expected != data:
            member, offset = _locate(data, expected)
            verdict.problem(member, f"the container differs from the canonical pack at byte {offset} "
                                    f"(in {member}'s header or data)")
    return verdict

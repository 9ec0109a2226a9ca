"""The pure half of a what-if: compare two placement contexts (the live estate and its changed copy) region by
region, and compare the decisions of one equivalence class before and after.

No Django here (``services.py`` reads the database and calls these): a region's answer is computed from the two
``placement.Context`` objects only, so the CLI's and the tests' answers need no server.

For each region: the sovereignty level before and after; the (law, channel) pairs that newly reach it, each with
the chain that explains it ("Region sovereign/fr-paris-1 ← cloud … runs on stack vendor Longhua … (CN) ← has
remote support access → National Intelligence Law …"), and those that no longer do; the laws that newly reach it
at all; certificates valid before and not after (and the reverse); the SecNumCloud ownership test before and
after. A region present on one side only is reported as added or removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from souverain.policy.placement import Context, RegionCase

SEVERITIES = ("medium", "high", "critical")


def _hits(profile: Mapping[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    hits: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in profile.get("exposure") or []:
        hits.setdefault((entry["law"], entry["channel"]), []).append(entry)
    return hits


def _path(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {key: entry[key] for key in ("law", "law_name", "country", "channel", "strength", "explanation", "chain")}


def _certs(profile: Mapping[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(c["scheme"], c["version"], c["held_by"]): c for c in profile.get("certifications") or []}


def compare_region(before: RegionCase | None, after: RegionCase | None) -> dict[str, Any]:
    """One region's before/after: exposure, certificates, ownership test, level."""
    case = after or before
    assert case is not None
    old = before.profile if before else {}
    new = after.profile if after else {}
    old_hits, new_hits = _hits(old), _hits(new)
    old_laws = {law for law, _ in old_hits}
    new_paths = [_path(entry) for key in sorted(set(new_hits) - set(old_hits)) for entry in new_hits[key]]
    gone_paths = [_path(entry) for key in sorted(set(old_hits) - set(new_hits)) for entry in old_hits[key]]
    newly_reaching: dict[str, dict[str, Any]] = {}
    for path in new_paths:
        if path["law"] not in old_laws:
            law = newly_reaching.setdefault(path["law"], {"law": path["law"], "name": path["law_name"],
                                                          "country": path["country"], "channels": []})
            if path["channel"] not in law["channels"]:
                law["channels"].append(path["channel"])
    old_certs, new_certs = _certs(old), _certs(new)
    lapsed = [new_certs.get(k, c) for k, c in sorted(old_certs.items()) if c["valid"] and not
              (k in new_certs and new_certs[k]["valid"])]
    regained = [c for k, c in sorted(new_certs.items())
                if c["valid"] and not (k in old_certs and old_certs[k]["valid"])]
    ownership = {side: {"passed": p["ownership"]["passed"], "explanation": p["ownership"]["explanation"]}
                 if p else None for side, p in (("before", old), ("after", new))}
    changed = bool(new_paths or gone_paths or lapsed or regained or before is None or after is None
                   or (before.profile_hash != after.profile_hash))
    return {
        "region": case.key, "name": case.profile.get("name", case.key), "cloud": case.cloud,
        "status": "added" if before is None else "removed" if after is None else "changed" if changed else "same",
        "level": {"before": old.get("level"), "after": new.get("level")},
        "vendor": {"before": old.get("vendor"), "after": new.get("vendor")},
        "data_countries": {"before": old.get("data_countries"), "after": new.get("data_countries")},
        "newly_reaching_laws": list(newly_reaching.values()),
        "new_paths": new_paths,
        "gone_paths": gone_paths,
        "certificates": {"lapsed": lapsed, "regained": regained,
                         "after": list(new.get("certifications") or [])},
        "ownership": ownership,
        "ownership_flips": bool(ownership["before"] and ownership["after"]
                                and ownership["before"]["passed"] != ownership["after"]["passed"]),
    }


def compare_regions(before: Context, after: Context, visible: Callable[[RegionCase], bool] = lambda case: True,
                    ) -> list[dict[str, Any]]:
    """Every region the reader may see, in key order: changed ones and unchanged ones alike (status says)."""
    old = {case.key: case for case in before.cases}
    new = {case.key: case for case in after.cases}
    out = []
    for key in sorted(set(old) | set(new)):
        case = new.get(key) or old[key]
        if visible(case):
            out.append(compare_region(old.get(key), new.get(key)))
    return out


def rules_of(denials: Iterable[Mapping[str, Any]], severity_of: Callable[[str, dict], str]) -> dict[str, dict]:
    """A decision's denials by rule: the worst severity and the English and French messages."""
    rules: dict[str, dict[str, Any]] = {}
    for entry in denials:
        rule = entry.get("rule", "")
        severity = severity_of(rule, entry.get("facts") or {})
        current = rules.setdefault(rule, {"rule": rule, "severity": severity, "message": "", "message_fr": ""})
        if SEVERITIES.index(severity) > SEVERITIES.index(current["severity"]):
            current["severity"] = severity
        for suffix in ("", "_fr"):
            text = entry.get(f"message{suffix}") or entry.get("message") or ""
            if text and text not in current[f"message{suffix}"]:
                current[f"message{suffix}"] = (current[f"message{suffix}"] + " " + text).strip()
    return rules


def compare_rules(before: Mapping[str, dict], after: Mapping[str, dict]) -> dict[str, list[dict]]:
    """Rules a class newly breaks (``new``), no longer breaks (``resolved``) and breaks on both sides (``kept``)."""
    return {
        "new": [after[r] for r in sorted(set(after) - set(before))],
        "resolved": [before[r] for r in sorted(set(before) - set(after))],
        "kept": [after[r] for r in sorted(set(after) & set(before))],
    }


def placement_flips(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Two placement answers (``placement.rank``) of one workload: regions it loses and gains, and whether its
    best region changes."""
    old = [a["region"] for a in before["allowed"]]
    new = [a["region"] for a in after["allowed"]]
    reasons = {d["region"]: d["reasons"] for d in after["denied"]}
    return {
        "lost": [{"region": r, "reasons": reasons.get(r, [])} for r in old if r not in new],
        "gained": [r for r in new if r not in old],
        "best": {"before": old[0] if old else None, "after": new[0] if new else None},
        "flips": old != new,
    }

"""What the portal says, in the reader's language: law names, rule messages, and placement reasons grouped.

- **Law names** come from the knowledge base, which carries each law's English ``name`` and its other languages
  under ``names`` (``souverain/kb/laws.yaml``); a law without a name in the reader's language shows the English one.
- **Rule messages**: a rule returns ``message`` (English) and may return ``message_<lang>`` beside it (the built-in
  packs return ``message_fr``); the reader's language is shown when it is there.
- **Grouped reasons**: a region denied by one rule through one law and one channel along five paths (admin staff,
  support staff, three datacenters) reads as one line naming the five places, not five near-identical sentences;
  the full messages stay one click away. Across regions, the reasons shared by several denied regions are listed
  once, with the regions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from souverain.estate.ownership import Line
from souverain.sovereignty import kb as kbfiles

from .templatetags.portal import channel_label, country, pct, vendor_access


def language() -> str:
    return (get_language() or settings.LANGUAGE_CODE).split("-")[0]


@cache
def _law_names(extra_dir: str) -> dict[str, dict[str, str]]:
    documents = kbfiles.read_files(extra_dir or None)
    return {law["id"]: {"en": law["name"], **(law.get("names") or {})} for law in documents["laws"].get("laws", [])}


def law_name(slug: str | None, fallback: str = "") -> str:
    """A law's name in the reader's language (the knowledge base files' ``names``), else ``fallback``."""
    names = _law_names(settings.KB_EXTRA_DIR or "").get(slug or "", {})
    return names.get(language()) or fallback or names.get("en") or slug or ""


def localized(entry: dict[str, Any], key: str) -> str:
    """``entry[key + "_" + language]`` when the rule gave one (``message_fr``), else ``entry[key]``."""
    lang = language()
    if lang != "en" and entry.get(f"{key}_{lang}"):
        return str(entry[f"{key}_{lang}"])
    return str(entry.get(key) or "")


# --- explanations (ownership test lines, exposure chains, why a law does not reach a region) ---------------------

# How an explanation line's parameters read, by the end of their name (ownership.Line).
LINE_FORMATS = {"_pct": pct, "country": country, "vendor_access": vendor_access}


def render_line(line: dict[str, Any]) -> str:
    """An explanation line (``{"id": English template, "params": …}``) in the reader's language."""
    return Line.render(line, _, LINE_FORMATS)


def chain_steps(hit: dict[str, Any]) -> list[str]:
    """An exposure path's links, then the law, in the reader's language."""
    return [*(render_line(link) for link in hit["chain"]), law_name(hit.get("law"), hit.get("law_name") or "")]


WHY_NOT = {
    "legal_control": gettext_lazy("no entity in the operator's control chain is domiciled in %(country)s"),
    "data_location": gettext_lazy("no primary or backup site is in %(country)s"),
    "access": gettext_lazy("no staff, vendor or facility operator has access from %(country)s"),
    "supply_chain": gettext_lazy("no vendor is domiciled in %(country)s"),
}


def why_not(law: dict[str, Any]) -> str:
    """Why a law of the knowledge base does not reach the region: the channels it needs, and that none applies."""
    channels = [channel for channel in law.get("channels") or [] if channel in WHY_NOT]
    where = country(law.get("country") or "")
    if not channels:
        return _("%(law)s reaches data through no channel Souverain analyses.") % {
            "law": law_name(law.get("law"), law.get("name") or "")}
    return _("%(law)s reaches data only through %(channels)s: %(reasons)s.") % {
        "law": law_name(law.get("law"), law.get("name") or ""),
        "channels": ", ".join(str(channel_label(c)).lower() for c in channels),
        "reasons": "; ".join(str(WHY_NOT[c]) % {"country": where} for c in channels),
    }


# --- placement reasons ---------------------------------------------------------------------------------------------

@dataclass
class ReasonGroup:
    """Reasons of one region that share a rule, a law and a channel; ``places`` says what differs between them."""

    rule: str
    law: str | None
    law_name: str
    channel: str | None
    messages: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return (self.rule, self.law, self.channel)

    @property
    def single(self) -> bool:
        return len(self.messages) == 1

    @property
    def line(self) -> tuple[str, list[str], str]:
        """(before, items, after): the group as one sentence around the list of what differs.

        A law's group reads "<law> reaches the data through <channel>: <places>". Another rule's messages differ
        only in a place (a country, a datacenter): the words they share before and after it frame the list."""
        if self.law:
            channel = channel_label(self.channel) if self.channel else ""
            return _("%(law)s reaches the data through %(channel)s:") % {"law": self.law_name, "channel": channel} \
                + " ", self.places, ""
        return common_frame(self.messages)


def common_frame(messages: list[str]) -> tuple[str, list[str], str]:
    """The words all ``messages`` start and end with, and what each has between them (each once, in order).
    The start keeps its trailing space and the end its leading one, unless punctuation joins them to the items."""
    if len(messages) == 1:
        return messages[0], [], ""
    split = [message.split(" ") for message in messages]
    start = 0
    while all(len(words) > start for words in split) and len({words[start] for words in split}) == 1:
        start += 1
    end = 0
    while (all(len(words) - end > start for words in split)
           and len({words[len(words) - end - 1] for words in split}) == 1):
        end += 1
    middles: list[str] = []
    for words in split:
        middle = " ".join(words[start:len(words) - end])
        if middle not in middles:
            middles.append(middle)
    before = " ".join(split[0][:start])
    after = " ".join(split[0][len(split[0]) - end:])
    if after and after[0] not in ",;:.)":
        after = " " + after
    # "in IN, outside" / "in SG, outside": the comma belongs to the frame, not to each country; so do the
    # parentheses of "de l'UE (IN)." / "(SG).".
    if middles and all(m[-1:] in ",;:." and m[-1:] == middles[0][-1:] for m in middles):
        after = middles[0][-1] + after
        middles = [m[:-1] for m in middles]
    opening = ""
    if middles and all(m.startswith("(") and m.endswith(")") for m in middles):
        opening, after = "(", ")" + after
        middles = [m[1:-1] for m in middles]
    # A bare country code ("IN") reads as the country's name in the reader's language.
    middles = [country(m) if re.fullmatch(r"[A-Z]{2}", m) else m for m in middles]
    return (before + " " if before else "") + opening, middles, after


def _place(facts: dict[str, Any], names: dict[str, str]) -> str:
    """What distinguishes one finding of a group: where the data goes, who reaches it."""
    path = facts.get("facts") if isinstance(facts.get("facts"), dict) else {}
    where = country(facts.get("country") or path.get("country") or "")
    if path.get("staff") == "admin":
        return _("admin staff in %(country)s") % {"country": where}
    if path.get("staff") == "support":
        return _("support staff in %(country)s") % {"country": where}
    if path.get("facility_operator") and path.get("datacenter"):
        return _("the facility operator of %(datacenter)s") % {
            "datacenter": names.get(path["datacenter"], path["datacenter"])}
    if path.get("datacenter") or facts.get("datacenter"):
        slug = path.get("datacenter") or facts.get("datacenter")
        return f"{names.get(slug, slug)} ({where})" if where else names.get(slug, slug)
    if path.get("vendor"):
        return _("stack vendor %(vendor)s") % {"vendor": names.get(path["vendor"], path["vendor"])}
    if path.get("hardware_vendor"):
        return _("hardware vendor %(vendor)s") % {"vendor": names.get(path["hardware_vendor"], path["hardware_vendor"])}
    if path.get("entity"):
        return _("%(entity)s, in the operator's control chain") % {"entity": names.get(path["entity"], path["entity"])}
    if facts.get("recipient"):
        return f"{names.get(facts['recipient'], facts['recipient'])} ({where})" if where else facts["recipient"]
    return where


def group_reasons(reasons: Iterable[dict[str, Any]], names: dict[str, str] | None = None) -> list[ReasonGroup]:
    """A region's reasons, one group per (rule, law, channel), in the order they first appear."""
    names = names or {}
    groups: dict[tuple[str, str | None, str | None], ReasonGroup] = {}
    for reason in reasons:
        facts = reason.get("facts") if isinstance(reason.get("facts"), dict) else {}
        law = facts.get("law") or None
        channel = facts.get("channel") or None
        key = (str(reason.get("rule") or ""), law, channel)
        group = groups.get(key)
        if group is None:
            group = groups[key] = ReasonGroup(key[0], law, law_name(law, facts.get("law_name") or ""), channel)
        group.messages.append(localized(reason, "message"))
        place = _place(facts, names)
        if place and place not in group.places:
            group.places.append(place)
        source = localized(reason, "source")
        if source and source not in group.sources:
            group.sources.append(source)
    return list(groups.values())


def shared_reasons(denied: list[dict[str, Any]], minimum: int = 2) -> list[dict[str, Any]]:
    """What several denied regions have against them, said once with the regions: a law reaching them through
    the same channel, or a rule whose message differs only by the region's name ("Region a, b, c has no
    SecNumCloud qualification valid on …"). Most regions first."""
    found: dict[tuple[str, str | None, str | None], dict[str, Any]] = {}
    for entry in denied:
        for group in entry["groups"]:
            item = found.setdefault(group.key, {"group": group, "regions": [], "messages": []})
            item["regions"].append(entry["region"])
            item["messages"].extend(group.messages)
    shared = []
    for item in found.values():
        group, regions = item["group"], item["regions"]
        if len(regions) < minimum:
            continue
        if group.law:
            channel = channel_label(group.channel) if group.channel else ""
            text = _("%(law)s reaches the data through %(channel)s") % {"law": group.law_name, "channel": channel}
            shared.append({"before": text + " — ", "items": regions, "after": "", "count": len(regions),
                           "rule": group.rule})
            continue
        before, middles, after = common_frame(item["messages"])
        if middles == regions:  # the messages differ by the region only
            shared.append({"before": before, "items": regions, "after": after, "count": len(regions),
                           "rule": group.rule})
    return sorted(shared, key=lambda item: (-item["count"], item["rule"], item["before"]))

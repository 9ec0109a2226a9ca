"""Placement reasons grouped per law and channel; law names and rule messages in the reader's language
(issue 10, item 16)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import translation

from souverain.portal import wording

from .conftest import ON

DAY = ON.isoformat()


def exposure(place: dict[str, Any], channel: str = "access") -> dict[str, Any]:
    return {"rule": "extraterritorial.compelled_exposure", "message": f"Region r is exposed through {place}",
            "facts": {"law": "us-fisa-702", "law_name": "FISA section 702 (…)", "channel": channel, "country": "US",
                      "facts": place}}


def test_five_paths_of_one_law_and_channel_are_one_line_naming_the_places() -> None:
    reasons = [exposure({"staff": "admin", "country": "US"}), exposure({"staff": "support", "country": "US"}),
               exposure({"datacenter": "par-a", "facility_operator": "nimbus-dc"}),
               exposure({"datacenter": "par-b", "facility_operator": "nimbus-dc"}),
               exposure({"entity": "nimbus-inc", "country": "US"}, channel="legal_control"),
               {"rule": "secnumcloud.support_staff", "message": "Region r has support staff in IN, outside the EU.",
                "facts": {"country": "IN"}},
               {"rule": "secnumcloud.support_staff", "message": "Region r has support staff in US, outside the EU.",
                "facts": {"country": "US"}}]
    with translation.override("en"):
        groups = wording.group_reasons(reasons, {"par-a": "Nimbus PAR-A", "nimbus-inc": "Nimbus Web Services, Inc."})
        assert [len(g.messages) for g in groups] == [4, 1, 2]
        before, places, after = groups[0].line
        assert before == "FISA section 702 (Foreign Intelligence Surveillance Act, Title VII) reaches the data " \
                         "through Access: "
        assert places == ["admin staff in United States", "support staff in United States",
                          "the facility operator of Nimbus PAR-A", "the facility operator of par-b"]
        assert groups[1].line[1] == ["Nimbus Web Services, Inc., in the operator's control chain"]
        assert groups[2].line == ("Region r has support staff in ", ["India", "United States"], ", outside the EU.")
        french = ["Région r : personnel hors de l'UE (IN).", "Région r : personnel hors de l'UE (US)."]
        assert wording.common_frame(french) == ("Région r : personnel hors de l'UE (", ["India", "United States"], ").")
    with translation.override("fr"):
        before, places, _ = wording.group_reasons(reasons)[0].line
        assert before.startswith("FISA, section 702 (loi américaine") and before.endswith("(canal Accès) : ")
        assert places[:2] == ["personnel d'administration : États-Unis", "personnel de support : États-Unis"]
        assert wording.group_reasons(reasons)[2].line[1] == ["Inde", "États-Unis"]


def test_common_frame_keeps_one_message_whole() -> None:
    assert wording.common_frame(["Region r has no HDS certificate."]) == ("Region r has no HDS certificate.", [], "")
    assert wording.common_frame(["Region a has no HDS.", "Region b has no HDS."]) == (
        "Region ", ["a", "b"], " has no HDS.")


def test_rule_messages_and_law_names_in_the_readers_language() -> None:
    reason = {"rule": "eucs.level", "message": "Region r: EUCS is a draft.",
              "message_fr": "Région r : EUCS est un projet."}
    with translation.override("fr"):
        assert wording.localized(reason, "message") == "Région r : EUCS est un projet."
        assert wording.law_name("cn-dsl", "Data Security Law of the PRC") == "Loi sur la sécurité des données de la RPC"
        assert wording.law_name("xx-unknown", "An operator's law") == "An operator's law"
    with translation.override("en"):
        assert wording.localized(reason, "message") == "Region r: EUCS is a draft."
        assert wording.law_name("cn-dsl", "") == "Data Security Law of the PRC"


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def denied_block(page: str, region: str) -> str:
    return re.search(rf'<details class="card denied" data-region="{re.escape(region)}">(.*?)</details> ?'
                     r'(?=<details class="card denied"|<p class="muted">|</section>)', page).group(1)


@pytest.mark.django_db
def test_placement_page_groups_repeated_reasons(login: Any, estate: Any) -> None:
    client = login("operator-ops")
    url = f"/placement/?run=1&tenant=ministere&data_classes=health&data_classes=personal&on={DAY}"
    page = text(client.get(url))
    nimbus = denied_block(page, "nimbus/eu-paris-1")
    rules = re.findall(r'<li class="reason" data-rule="([^"]+)"', nimbus)
    # One line per rule, law and channel: CLOUD Act and FISA through legal control, FISA through access; transfers
    # through administration and through support; staff of each kind once, whatever the number of countries.
    assert rules.count("extraterritorial.compelled_exposure") == 3
    assert rules.count("gdpr_transfers.unlawful_transfer") == 2
    assert rules.count("secnumcloud.support_staff") == 1 and rules.count("secnumcloud.admin_staff") == 1
    staff = re.search(r'data-rule="secnumcloud.support_staff">(.*?)</li>', nimbus).group(1)
    assert re.search(r'has support staff in <span class="place">India</span>, <span class="place">Singapore</span>, '
                     r'<span class="place">United States</span>, outside the EU\.', staff), staff
    fisa = [m for m in re.findall(r'<span class="reason-message">(FISA section 702[^<]*)', nimbus)]
    assert fisa and all("reaches the data through" in m for m in fisa)
    assert len(fisa) == len(set(fisa))  # one line per law and channel
    # What several regions have against them, said once.
    shared = re.search(r'<section class="shared-reasons".*?</section>', page).group(0)
    place = r'<span class="place">[^<]+</span>'
    assert re.search(rf"Region {place}(, {place})+ has no SecNumCloud qualification valid on", shared), shared
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    french = text(client.get(url))
    assert "Raisons communes à plusieurs régions" in french
    assert "atteint les données (canal Accès)" in french and "Inde" in denied_block(french, "nimbus/eu-paris-1")

package souverain.gdpr_transfers_test

import data.souverain.fixtures
import data.souverain.fixtures.rules
import data.souverain.gdpr_transfers
import rego.v1

decide(region, workload) := {"deny": deny, "warn": warn} if {
	kb := fixtures.kb
	date := fixtures.date
	deny := gdpr_transfers.deny with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
	warn := gdpr_transfers.warn with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
}

personal := fixtures.with_classes(["personal"])

backup_in(country, operator) := [
	fixtures.location("PAR-1", "FR", "primary"),
	object.union(fixtures.location("BKP-1", country, "backup"), {"operator": operator}),
]

test_eea_only_region_has_no_transfer if {
	result := decide(fixtures.region, personal)
	count(result.deny) == 0
	count(result.warn) == 0
}

test_backup_in_country_without_adequacy_is_denied if {
	region := fixtures.with_region({"data_locations": backup_in("SG", {"name": "SG Pte", "country": "SG"})})
	result := decide(region, personal)
	rules(result.deny) == {"gdpr_transfers.unlawful_transfer"}
	some d in result.deny
	d.facts.country == "SG"
	d.facts.channel == "backup"
}

test_adequate_country_is_allowed if {
	region := fixtures.with_region({"data_locations": backup_in("JP", {"name": "JP KK", "country": "JP"})})
	result := decide(region, personal)
	count(result.deny) == 0
}

test_us_needs_a_dpf_certified_recipient if {
	operator := {"id": "plain-us-llc", "name": "Plain LLC", "country": "US"}
	region := fixtures.with_region({"data_locations": backup_in("US", operator)})
	result := decide(region, personal)
	rules(result.deny) == {"gdpr_transfers.unlawful_transfer"}
}

test_us_dpf_certified_recipient_is_allowed if {
	operator := {"id": "certified-us-inc", "name": "Certified Inc.", "country": "US"}
	result := decide(fixtures.with_region({"data_locations": backup_in("US", operator)}), personal)
	count(result.deny) == 0
}

test_remote_access_is_a_transfer if {
	vendor := {"id": "huawei", "name": "Huawei", "country": "CN", "access": "remote_support"}
	result := decide(fixtures.with_region({"support_staff_countries": ["FR", "MA"], "vendor": vendor}), personal)
	{[d.facts.country, d.facts.channel] | some d in result.deny} == {
		["MA", "support access"], ["CN", "vendor remote access"],
	}
}

test_safeguard_turns_deny_into_warning if {
	workload := object.union(personal, {"safeguards": [{"country": "MA", "mechanism": "scc"}]})
	result := decide(fixtures.with_region({"support_staff_countries": ["MA"]}), workload)
	count(result.deny) == 0
	rules(result.warn) == {"gdpr_transfers.safeguard_relied_on"}
}

test_wildcard_safeguard_covers_every_country if {
	workload := object.union(personal, {"safeguards": [{"country": "*", "mechanism": "bcr"}]})
	result := decide(fixtures.with_region({"admin_staff_countries": ["IN"], "support_staff_countries": ["MA"]}), workload)
	count(result.deny) == 0
	count(result.warn) == 2
}

test_no_personal_data_no_transfer_check if {
	result := decide(fixtures.with_region({"support_staff_countries": ["MA"]}), fixtures.workload)
	count(result.deny) == 0
}

test_every_entry_says_whom_it_binds_in_both_languages if {
	region := fixtures.with_region({"data_locations": backup_in("IN", {"name": "X", "country": "IN"}), "support_staff_countries": ["MA"]})
	workload := object.union(personal, {"safeguards": [{"country": "MA", "mechanism": "scc"}]})
	result := decide(region, workload)
	rules(result.deny) == {"gdpr_transfers.unlawful_transfer"}
	rules(result.warn) == {"gdpr_transfers.safeguard_relied_on"}
	every v in array.concat([d | some d in result.deny], [w | some w in result.warn]) {
		contains(v.binds, "controllers and processors of personal data")
		v.binds_fr != ""
		v.message_fr != ""
		v.source_fr != ""
	}
	some d in result.deny
	contains(d.message, "(backup)")
	contains(d.message_fr, "(sauvegarde)")
	contains(d.message_fr, "données personnelles (RGPD)")
}

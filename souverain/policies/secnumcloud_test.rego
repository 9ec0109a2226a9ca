package souverain.secnumcloud_test

import data.souverain.fixtures
import data.souverain.fixtures.rules
import data.souverain.secnumcloud
import rego.v1

decide(region) := decide_for(region, restricted)

decide_for(region, workload) := {"deny": deny, "warn": warn} if {
	kb := fixtures.kb
	date := fixtures.date
	deny := secnumcloud.deny with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
	warn := secnumcloud.warn with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
}

test_sovereign_region_passes if {
	result := decide(fixtures.region)
	count(result.deny) == 0
	count(result.warn) == 0
}

test_operator_seat_outside_eu if {
	operator := object.union(fixtures.operator, {"country": "US", "chain": []})
	result := decide(fixtures.with_region({"operator": operator}))
	rules(result.deny) == {"secnumcloud.operator_seat"}
}

test_parent_outside_eu if {
	parent := {"id": "w", "name": "W Inc.", "country": "US", "eu": false, "relation": "parent"}
	operator := object.union(fixtures.operator, {"chain": array.concat(fixtures.operator.chain, [parent])})
	result := decide(fixtures.with_region({"operator": operator}))
	rules(result.deny) == {"secnumcloud.chain_control"}
	some d in result.deny
	d.facts == {"entity": "W Inc.", "country": "US", "relation": "parent"}
}

test_single_non_eu_holder_above_24_percent if {
	holder := {"entity": "W Inc.", "country": "US", "capital": 30, "voting": 20}
	ownership := object.union(fixtures.ownership, {
		"non_eu_single_max": holder, "non_eu_total_capital": 30, "non_eu_total_voting": 20,
	})
	result := decide(fixtures.with_region({"ownership": ownership}))
	rules(result.deny) == {"secnumcloud.ownership_single"}
	some d in result.deny
	contains(d.message, "holds 30 % of capital and 20 % of voting rights")
}

test_single_non_eu_holder_at_24_percent_passes if {
	holder := {"entity": "W Inc.", "country": "US", "capital": 24, "voting": 24}
	ownership := object.union(fixtures.ownership, {
		"non_eu_single_max": holder, "non_eu_total_capital": 24, "non_eu_total_voting": 24,
	})
	result := decide(fixtures.with_region({"ownership": ownership}))
	count(result.deny) == 0
}

test_non_eu_total_above_39_percent_by_voting_rights if {
	holder := {"entity": "W Inc.", "country": "US", "capital": 20, "voting": 20}
	ownership := object.union(fixtures.ownership, {
		"non_eu_single_max": holder, "non_eu_total_capital": 35, "non_eu_total_voting": 40,
	})
	result := decide(fixtures.with_region({"ownership": ownership}))
	rules(result.deny) == {"secnumcloud.ownership_total"}
}

test_backup_outside_eu if {
	locations := [fixtures.location("PAR-1", "FR", "primary"), fixtures.location("NYC-1", "US", "backup")]
	result := decide(fixtures.with_region({"data_locations": locations}))
	rules(result.deny) == {"secnumcloud.data_location"}
	some d in result.deny
	d.facts.role == "backup"
}

test_admin_and_support_staff_outside_eu if {
	result := decide(fixtures.with_region({"admin_staff_countries": ["FR", "IN"], "support_staff_countries": ["MA"]}))
	rules(result.deny) == {"secnumcloud.admin_staff", "secnumcloud.support_staff"}
}

test_vendor_remote_support_from_outside_eu if {
	vendor := {"id": "huawei", "name": "Huawei", "country": "CN", "access": "remote_support"}
	result := decide(fixtures.with_region({"vendor": vendor}))
	rules(result.deny) == {"secnumcloud.vendor_access"}
}

test_vendor_without_access_passes if {
	vendor := {"id": "huawei", "name": "Huawei", "country": "CN", "access": "software_supply"}
	result := decide(fixtures.with_region({"vendor": vendor}))
	count(result.deny) == 0
}

test_keys_outside_eu if {
	result := decide(fixtures.with_region({"key_custody": {"holder": "provider", "country": "US"}}))
	rules(result.deny) == {"secnumcloud.key_custody"}
}

test_provider_keys_in_undeclared_country if {
	result := decide(fixtures.with_region({"key_custody": {"holder": "provider", "country": null}}))
	rules(result.deny) == {"secnumcloud.key_custody"}
}

test_customer_keys_in_undeclared_country_pass if {
	result := decide(fixtures.with_region({"key_custody": {"holder": "customer", "country": null}}))
	count(result.deny) == 0
}

test_no_valid_qualification if {
	result := decide(fixtures.with_region({"certifications": [fixtures.cert("secnumcloud", null, false, null)]}))
	rules(result.deny) == {"secnumcloud.qualification"}
}

test_qualification_expiring_within_90_days if {
	result := decide(fixtures.with_region({"certifications": [fixtures.cert("secnumcloud", null, true, 90)]}))
	count(result.deny) == 0
	rules(result.warn) == {"secnumcloud.qualification_expiring"}
}

test_qualification_expiring_in_91_days_is_quiet if {
	result := decide(fixtures.with_region({"certifications": [fixtures.cert("secnumcloud", null, true, 91)]}))
	count(result.warn) == 0
}

# --- who is bound: the same region and data, denied for a State administration, warned for the others ---

us_operator := fixtures.with_region({"operator": object.union(fixtures.operator, {"country": "US", "chain": []})})

restricted := fixtures.with_classes(["diffusion_restreinte"])

test_state_administration_with_restricted_data_is_denied if {
	result := decide_for(us_operator, restricted)
	rules(result.deny) == {"secnumcloud.operator_seat"}
	count(result.warn) == 0
	some d in result.deny
	contains(d.binds, "State administrations and public bodies")
	contains(d.source, "6282/SG")
}

test_public_body_with_restricted_data_is_denied if {
	result := decide_for(us_operator, fixtures.as_category(restricted, "public_body"))
	rules(result.deny) == {"secnumcloud.operator_seat"}
}

test_private_company_with_the_same_data_is_warned if {
	result := decide_for(us_operator, fixtures.as_category(restricted, "private"))
	count(result.deny) == 0
	rules(result.warn) == {"secnumcloud.operator_seat"}
	some w in result.warn
	contains(w.message, "Recommended, not required")
	contains(w.message, "this tenant is a private company")
	contains(w.message_fr, "une entreprise privée")
	contains(w.binds, "State administrations and public bodies")
}

test_critical_operator_is_warned_not_denied if {
	result := decide_for(us_operator, fixtures.as_category(fixtures.with_classes(["critical_operator"]), "critical_operator"))
	count(result.deny) == 0
	rules(result.warn) == {"secnumcloud.operator_seat"}
}

test_a_workload_without_a_category_is_private if {
	workload := json.remove(restricted, ["tenant_category"])
	result := decide_for(us_operator, workload)
	count(result.deny) == 0
	rules(result.warn) == {"secnumcloud.operator_seat"}
}

test_an_explicit_requirement_binds_any_tenant if {
	workload := fixtures.require(fixtures.as_category(fixtures.workload, "private"), {"secnumcloud": true})
	result := decide_for(us_operator, workload)
	rules(result.deny) == {"secnumcloud.operator_seat"}
	some d in result.deny
	contains(d.binds, "requires SecNumCloud")
}

test_a_state_administration_s_internal_data_is_not_bound if {
	# The pack opted into without sensitive data: the doctrine does not require SecNumCloud for it.
	result := decide_for(us_operator, fixtures.require(fixtures.workload, {"packs": ["secnumcloud"]}))
	count(result.deny) == 0
	rules(result.warn) == {"secnumcloud.operator_seat"}
}

test_every_entry_says_whom_its_text_binds_in_both_languages if {
	region := fixtures.with_region({
		"key_custody": {"holder": "provider", "country": "US"},
		"vendor": {"id": "huawei", "name": "Huawei", "country": "CN", "access": "remote_support"},
		"certifications": [fixtures.cert("secnumcloud", null, false, null)],
	})
	result := decide_for(region, restricted)
	rules(result.deny) == {"secnumcloud.key_custody", "secnumcloud.vendor_access", "secnumcloud.qualification"}
	every d in result.deny {
		d.binds != ""
		d.binds_fr != ""
		d.message_fr != ""
		d.source_fr != ""
	}
	some v in result.deny
	v.rule == "secnumcloud.vendor_access"
	contains(v.message, "remote support access")
	contains(v.message_fr, "support à distance")
}

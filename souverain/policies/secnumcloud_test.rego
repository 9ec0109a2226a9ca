package souverain.secnumcloud_test

import data.souverain.fixtures
import data.souverain.fixtures.rules
import data.souverain.secnumcloud
import rego.v1

decide(region) := {"deny": deny, "warn": warn} if {
	workload := fixtures.workload
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

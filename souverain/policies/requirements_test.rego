package souverain.requirements_test

import data.souverain.fixtures
import data.souverain.fixtures.rules
import data.souverain.requirements
import rego.v1

decide(region, workload) := {"deny": deny, "warn": warn} if {
	kb := fixtures.kb
	date := fixtures.date
	deny := requirements.deny with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
	warn := requirements.warn with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
}

test_no_requirement_is_quiet if {
	region := fixtures.with_region({"data_countries": ["US"], "admin_staff_countries": ["IN"]})
	result := decide(region, fixtures.workload)
	count(result.deny) == 0
	count(result.warn) == 0
}

test_eu_only_checks_data_and_staff if {
	region := fixtures.with_region({"data_countries": ["FR", "US"], "support_staff_countries": ["FR", "MA"]})
	result := decide(region, fixtures.with_requirements({"eu_only": true}))
	{[d.facts.what, d.facts.country] | some d in result.deny} == {["data", "US"], ["support staff", "MA"]}
	rules(result.deny) == {"requirements.eu_only"}
}

test_eu_only_passes_in_the_eu if {
	result := decide(fixtures.region, fixtures.with_requirements({"eu_only": true}))
	count(result.deny) == 0
}

test_allowed_countries if {
	region := fixtures.with_region({"data_countries": ["FR", "DE"]})
	result := decide(region, fixtures.with_requirements({"allowed_countries": ["FR"]}))
	rules(result.deny) == {"requirements.allowed_countries"}
	some d in result.deny
	d.facts.country == "DE"
}

test_customer_held_keys_required if {
	result := decide(fixtures.region, fixtures.with_requirements({"customer_held_keys": true}))
	rules(result.deny) == {"requirements.customer_held_keys"}
}

test_customer_held_keys_met if {
	region := fixtures.with_region({"key_custody": {"holder": "external_hsm", "country": "FR"}})
	result := decide(region, fixtures.with_requirements({"customer_held_keys": true}))
	count(result.deny) == 0
	count(result.warn) == 0
}

test_customer_keys_in_undeclared_place if {
	region := fixtures.with_region({"key_custody": {"holder": "customer", "country": null}})
	result := decide(region, fixtures.with_requirements({"customer_held_keys": true}))
	count(result.deny) == 0
	rules(result.warn) == {"requirements.key_location_unknown"}
}

test_an_unknown_label_is_a_violation_of_its_own if {
	workload := object.union(fixtures.workload, {"unknown_labels": [{"field": "data_classes", "value": "top-secret"}]})
	result := decide(fixtures.region, workload)
	rules(result.deny) == {"requirements.unknown_label"}
	some d in result.deny
	contains(d.message, "'top-secret'")
	contains(d.message_fr, "'top-secret'")
	d.facts == {"field": "data_classes", "value": "top-secret"}
}

test_an_unknown_law_in_no_exposure_to_is_a_violation_of_its_own if {
	result := decide(fixtures.region, fixtures.with_requirements({"no_exposure_to": ["us-cloud-act", "us-clud-act"]}))
	rules(result.deny) == {"requirements.unknown_law"}
	some d in result.deny
	d.facts.law == "us-clud-act"
}

test_every_entry_says_whom_it_binds_in_both_languages if {
	region := fixtures.with_region({"data_countries": ["FR", "US"], "key_custody": {"holder": "provider", "country": "FR"}})
	workload := fixtures.with_requirements({"eu_only": true, "allowed_countries": ["FR"], "customer_held_keys": true})
	result := decide(region, workload)
	rules(result.deny) == {"requirements.eu_only", "requirements.allowed_countries", "requirements.customer_held_keys"}
	every d in result.deny {
		contains(d.binds, "this tenant")
		d.binds_fr != ""
		d.message_fr != ""
		d.source_fr != ""
	}
}

test_an_unknown_requirement_is_named_as_such if {
	workload := object.union(fixtures.workload, {"unknown_labels": [{"field": "requirements", "value": "no_foriegn_law"}]})
	result := decide(fixtures.region, workload)
	some d in result.deny
	d.rule == "requirements.unknown_label"
	contains(d.message, "unknown requirement 'no_foriegn_law'")
	contains(d.message_fr, "exigence inconnue 'no_foriegn_law'")
}

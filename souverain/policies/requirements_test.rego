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

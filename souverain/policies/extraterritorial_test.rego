package souverain.extraterritorial_test

import data.souverain.fixtures
import data.souverain.fixtures.rules
import data.souverain.extraterritorial
import rego.v1

decide(region, workload) := {"deny": deny, "warn": warn} if {
	kb := fixtures.kb
	date := fixtures.date
	deny := extraterritorial.deny with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
	warn := extraterritorial.warn with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
}

sensitive := fixtures.with_classes(["diffusion_restreinte"])

cloud_act(channel, strength) := fixtures.exposure("us-cloud-act", "US", channel, strength)

exposed(exposures) := fixtures.with_region({"exposure": exposures})

customer_keys_in(country) := fixtures.with_region({
	"exposure": [cloud_act("legal_control", "compelled"), cloud_act("data_location", "compelled")],
	"key_custody": {"holder": "customer", "country": country},
})

test_no_exposure_passes if {
	result := decide(fixtures.region, sensitive)
	count(result.deny) == 0
	count(result.warn) == 0
}

test_compelled_legal_control_is_denied_for_sensitive_data if {
	result := decide(exposed([cloud_act("legal_control", "compelled")]), sensitive)
	rules(result.deny) == {"extraterritorial.compelled_exposure"}
	some d in result.deny
	d.facts.channel == "legal_control"
	contains(d.message, "sensitive data (diffusion_restreinte)")
}

test_compelled_access_is_denied if {
	exposure := fixtures.exposure("cn-intelligence-law", "CN", "access", "compelled")
	result := decide(exposed([exposure]), sensitive)
	rules(result.deny) == {"extraterritorial.compelled_exposure"}
}

test_non_sensitive_data_is_out_of_scope if {
	result := decide(exposed([cloud_act("legal_control", "compelled")]), fixtures.workload)
	count(result.deny) == 0
	count(result.warn) == 0
}

test_listed_law_is_denied_for_any_data if {
	workload := fixtures.with_requirements({"no_exposure_to": ["us-cloud-act"]})
	result := decide(exposed([cloud_act("legal_control", "compelled")]), workload)
	rules(result.deny) == {"extraterritorial.compelled_exposure"}
}

test_unlisted_law_is_out_of_scope_for_non_sensitive_data if {
	workload := fixtures.with_requirements({"no_exposure_to": ["cn-intelligence-law"]})
	result := decide(exposed([cloud_act("legal_control", "compelled")]), workload)
	count(result.deny) == 0
}

test_eu_law_is_never_in_scope if {
	result := decide(exposed([fixtures.exposure("fr-law", "FR", "legal_control", "compelled")]), sensitive)
	count(result.deny) == 0
}

test_customer_held_keys_in_eu_mean_ciphertext_only if {
	workload := object.union(sensitive, {"requirements": object.union(
		fixtures.workload.requirements,
		{"customer_held_keys": true},
	)})
	result := decide(customer_keys_in("FR"), workload)
	count(result.deny) == 0
	rules(result.warn) == {"extraterritorial.ciphertext_only"}
	count(result.warn) == 2
}

test_customer_held_keys_outside_eu_give_no_relief if {
	workload := object.union(sensitive, {"requirements": object.union(
		fixtures.workload.requirements,
		{"customer_held_keys": true},
	)})
	result := decide(customer_keys_in("US"), workload)
	rules(result.deny) == {"extraterritorial.compelled_exposure"}
}

test_keys_do_not_relieve_access if {
	workload := object.union(sensitive, {"requirements": object.union(
		fixtures.workload.requirements,
		{"customer_held_keys": true},
	)})
	region := fixtures.with_region({
		"exposure": [cloud_act("access", "compelled")],
		"key_custody": {"holder": "customer", "country": "FR"},
	})
	result := decide(region, workload)
	rules(result.deny) == {"extraterritorial.compelled_exposure"}
}

test_supply_chain_is_a_warning if {
	exposure := fixtures.exposure("cn-intelligence-law", "CN", "supply_chain", "informational")
	result := decide(exposed([exposure]), sensitive)
	count(result.deny) == 0
	rules(result.warn) == {"extraterritorial.supply_chain"}
}

test_informational_exposure_is_a_warning if {
	result := decide(exposed([cloud_act("legal_control", "informational")]), sensitive)
	count(result.deny) == 0
	rules(result.warn) == {"extraterritorial.informational_exposure"}
}

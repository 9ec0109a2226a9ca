package souverain.extraterritorial_test

import data.souverain.fixtures
import data.souverain.fixtures.rules
import data.souverain.extraterritorial
import rego.v1

decide(region, workload) := decide_kb(region, workload, fixtures.kb)

decide_kb(region, workload, kb) := {"deny": deny, "warn": warn} if {
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
	contains(d.message, "Not acceptable for a State administration (Diffusion Restreinte).")
	contains(d.message_fr, "Inacceptable pour une administration de l'État (Diffusion Restreinte).")
	contains(d.binds, "State administrations and public bodies")
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

# --- who is bound: sensitive data is denied for State bodies, warned for everyone else --------------------------

control_chain := exposed([cloud_act("legal_control", "compelled")])

test_restricted_data_of_a_private_company_is_warned if {
	result := decide(control_chain, fixtures.as_category(sensitive, "private"))
	count(result.deny) == 0
	rules(result.warn) == {"extraterritorial.compelled_exposure"}
	some w in result.warn
	contains(w.message, "this tenant is a private company")
	contains(w.message_fr, "ce client est une entreprise privée")
}

test_critical_operator_data_of_an_oiv_is_warned if {
	workload := fixtures.as_category(fixtures.with_classes(["critical_operator"]), "critical_operator")
	result := decide(control_chain, workload)
	count(result.deny) == 0
	rules(result.warn) == {"extraterritorial.compelled_exposure"}
}

test_restricted_data_of_a_public_body_is_denied if {
	result := decide(control_chain, fixtures.as_category(sensitive, "public_body"))
	rules(result.deny) == {"extraterritorial.compelled_exposure"}
}

health := fixtures.as_category(fixtures.with_classes(["health"]), "regulated_health")

# EDPB guidelines 05/2021: a parent that could be compelled is a risk to assess, not a transfer by itself.
test_health_data_exposed_through_the_control_chain_only_is_warned if {
	result := decide(control_chain, health)
	count(result.deny) == 0
	rules(result.warn) == {"extraterritorial.compelled_exposure"}
	some w in result.warn
	contains(w.message, "not by itself an unlawful transfer")
	contains(w.source, "EDPB guidelines 05/2021")
}

test_health_data_of_a_state_administration_is_warned_too if {
	result := decide(control_chain, fixtures.as_category(health, "state_administration"))
	count(result.deny) == 0
	some w in result.warn
	contains(w.message, "this workload holds no data of that kind")
}

test_health_data_with_no_foreign_law_is_denied if {
	result := decide(control_chain, fixtures.require(health, {"no_foreign_law": true}))
	rules(result.deny) == {"extraterritorial.compelled_exposure"}
	some d in result.deny
	contains(d.binds, "this tenant")
	contains(d.message, "excludes every non-EU law")
}

test_health_data_with_the_law_listed_is_denied if {
	result := decide(control_chain, fixtures.require(health, {"no_exposure_to": ["us-cloud-act"]}))
	rules(result.deny) == {"extraterritorial.compelled_exposure"}
}

# --- no_foreign_law: every non-EU law of the knowledge base, including laws it gains later --------------------

test_no_foreign_law_covers_a_law_added_to_the_knowledge_base_later if {
	kb := fixtures.kb_with_law("in-it-act", "IN")
	region := exposed([fixtures.exposure("in-it-act", "IN", "legal_control", "compelled")])
	workload := fixtures.require(fixtures.workload, {"no_foreign_law": true})
	result := decide_kb(region, workload, kb)
	rules(result.deny) == {"extraterritorial.compelled_exposure"}
	without := decide_kb(region, fixtures.workload, kb)
	count(without.deny) == 0
}

test_no_foreign_law_leaves_eu_laws_alone if {
	region := exposed([fixtures.exposure("fr-law", "FR", "legal_control", "compelled")])
	result := decide(region, fixtures.require(fixtures.workload, {"no_foreign_law": true}))
	count(result.deny) == 0
}

test_every_entry_says_whom_its_text_binds_in_both_languages if {
	region := exposed([
		cloud_act("legal_control", "compelled"),
		cloud_act("access", "informational"),
		fixtures.exposure("cn-intelligence-law", "CN", "supply_chain", "informational"),
	])
	result := decide(region, sensitive)
	count(result.deny) == 1
	count(result.warn) == 2
	every v in array.concat([d | some d in result.deny], [w | some w in result.warn]) {
		v.binds != ""
		v.binds_fr != ""
		v.message_fr != ""
		v.source_fr != ""
		not contains(v.message, "legal_control")
		not contains(v.message, "supply_chain")
	}
}

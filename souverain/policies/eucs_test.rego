package souverain.eucs_test

import data.souverain.fixtures
import data.souverain.fixtures.rules
import data.souverain.eucs
import rego.v1

decide(region, workload) := {"deny": deny, "warn": warn} if {
	kb := fixtures.kb
	date := fixtures.date
	deny := eucs.deny with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
	warn := eucs.warn with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
}

needs(level) := fixtures.with_requirements({"eucs_level": level})

claims(certs) := fixtures.with_region({"certifications": certs})

test_no_level_required_is_quiet if {
	result := decide(fixtures.region, fixtures.workload)
	count(result.deny) == 0
	count(result.warn) == 0
}

test_higher_claim_meets_requirement if {
	result := decide(claims([fixtures.cert("eucs", "high", true, 300)]), needs("substantial"))
	count(result.deny) == 0
	rules(result.warn) == {"eucs.draft_scheme"}
}

test_best_valid_claim_counts if {
	certs := [fixtures.cert("eucs", "basic", true, 300), fixtures.cert("eucs", "high_plus", true, 300)]
	result := decide(claims(certs), needs("high_plus"))
	count(result.deny) == 0
}

test_lower_claim_is_denied if {
	result := decide(claims([fixtures.cert("eucs", "substantial", true, 300)]), needs("high"))
	rules(result.deny) == {"eucs.level_insufficient"}
}

test_expired_claim_does_not_count if {
	result := decide(claims([fixtures.cert("eucs", "high", false, null)]), needs("basic"))
	rules(result.deny) == {"eucs.level_insufficient"}
	some d in result.deny
	contains(d.message, "is none")
}

test_every_entry_says_whom_it_binds_in_both_languages if {
	result := decide(claims([]), needs("high"))
	rules(result.deny) == {"eucs.level_insufficient"}
	every v in array.concat([d | some d in result.deny], [w | some w in result.warn]) {
		contains(v.binds, "this tenant")
		v.binds_fr != ""
		v.message_fr != ""
		v.source_fr != ""
		not contains(v.message, "high_plus")
	}
}

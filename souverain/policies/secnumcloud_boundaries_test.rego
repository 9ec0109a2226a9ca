# SecNumCloud 3.2 §19.6 ownership limits at their boundaries, as the pack compares the figures Python hands it
# (estate/ownership.py, OwnershipTest.as_dict: shares rounded to the register's 0.001 %): exactly on a limit
# passes, 0.001 % above fails, on capital and on voting rights separately. The Python side has the same cases
# (souverain/estate/tests/test_ownership_boundaries.py); together they keep "≤ 24 % alone, ≤ 39 % together"
# from turning into "< 24 %" or losing a condition unnoticed.
#
# The workload requires SecNumCloud itself, so the findings deny whoever the tenant is.
package souverain.secnumcloud_boundaries_test

import data.souverain.fixtures
import data.souverain.secnumcloud
import rego.v1

ownership_rules := {"secnumcloud.ownership_single", "secnumcloud.ownership_total"}

# The ownership rules that deny a region whose operator has these figures.
denied_by(single, total_capital, total_voting) := {v.rule | some v in result; v.rule in ownership_rules} if {
	ownership := object.union(fixtures.ownership, {
		"non_eu_single_max": single, "non_eu_total_capital": total_capital, "non_eu_total_voting": total_voting,
	})
	region := fixtures.with_region({"ownership": ownership})
	workload := fixtures.with_requirements({"secnumcloud": true})
	kb := fixtures.kb
	date := fixtures.date
	result := secnumcloud.deny with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
}

holder(capital, voting) := {"entity": "W Inc.", "country": "US", "capital": capital, "voting": voting}

# --- one non-EU holder: at most 24 % -----------------------------------------------------------------------------

test_single_holder_at_exactly_24_percent_passes if {
	denied_by(holder(24, 24), 24, 24) == set()
}

test_single_holder_at_exactly_24_percent_as_decimals_passes if {
	denied_by(holder(24.0, 24.0), 24.0, 24.0) == set()
}

test_single_holder_just_above_24_percent_of_capital_fails if {
	denied_by(holder(24.001, 24), 24.001, 24) == {"secnumcloud.ownership_single"}
}

test_single_holder_just_above_24_percent_of_votes_fails if {
	denied_by(holder(24, 24.001), 24, 24.001) == {"secnumcloud.ownership_single"}
}

test_single_holder_votes_above_while_capital_far_below_fails if {
	denied_by(holder(5, 25), 5, 25) == {"secnumcloud.ownership_single"}
}

test_single_holder_capital_above_while_votes_far_below_fails if {
	denied_by(holder(25, 5), 25, 5) == {"secnumcloud.ownership_single"}
}

test_no_non_eu_holder_at_all_passes if {
	denied_by(null, 0, 0) == set()
}

# --- non-EU entities together: at most 39 % ----------------------------------------------------------------------

test_together_at_exactly_39_percent_passes if {
	denied_by(holder(13, 13), 39, 39) == set()
}

test_together_just_above_39_percent_of_capital_fails if {
	denied_by(holder(13.001, 13), 39.001, 39) == {"secnumcloud.ownership_total"}
}

test_together_just_above_39_percent_of_votes_fails if {
	denied_by(holder(13, 13.001), 39, 39.001) == {"secnumcloud.ownership_total"}
}

test_together_votes_above_while_capital_far_below_fails if {
	denied_by(holder(5, 20), 10, 40) == {"secnumcloud.ownership_total"}
}

test_together_capital_above_while_votes_far_below_fails if {
	denied_by(holder(20, 5), 40, 10) == {"secnumcloud.ownership_total"}
}

test_both_limits_exceeded_deny_twice if {
	denied_by(holder(30, 30), 45, 45) == ownership_rules
}

# --- the limits are the ones the input carries, not numbers written in the pack --------------------------------

test_the_pack_compares_with_the_thresholds_it_is_given if {
	ownership := object.union(fixtures.ownership, {
		"non_eu_single_max": holder(25, 25), "non_eu_total_capital": 25, "non_eu_total_voting": 25,
		"thresholds": {"single": 30, "total": 20},
	})
	region := fixtures.with_region({"ownership": ownership})
	workload := fixtures.with_requirements({"secnumcloud": true})
	kb := fixtures.kb
	date := fixtures.date
	result := secnumcloud.deny with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
	{v.rule | some v in result; v.rule in ownership_rules} == {"secnumcloud.ownership_total"}
}

package souverain.hds_test

import data.souverain.fixtures
import data.souverain.fixtures.rules
import data.souverain.hds
import rego.v1

decide(region, workload) := {"deny": deny, "warn": warn} if {
	kb := fixtures.kb
	date := fixtures.date
	deny := hds.deny with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
	warn := hds.warn with input.region as region with input.workload as workload
		with input.kb as kb with input.date as date
}

health := fixtures.with_classes(["health"])

test_certified_eea_host_passes if {
	result := decide(fixtures.region, health)
	count(result.deny) == 0
	count(result.warn) == 0
}

test_certificate_expired_the_day_before if {
	expired := object.union(fixtures.cert("hds", null, false, null), {"valid_until": "2026-11-24"})
	result := decide(fixtures.with_region({"certifications": [expired]}), health)
	rules(result.deny) == {"hds.certificate"}
	some d in result.deny
	contains(d.message, "ended on 2026-11-24")
}

test_no_certificate_at_all if {
	result := decide(fixtures.with_region({"certifications": []}), health)
	rules(result.deny) == {"hds.certificate"}
}

test_certificate_expiring_soon if {
	result := decide(fixtures.with_region({"certifications": [fixtures.cert("hds", null, true, 30)]}), health)
	count(result.deny) == 0
	rules(result.warn) == {"hds.certificate_expiring"}
}

test_backup_outside_eea if {
	locations := [fixtures.location("PAR-1", "FR", "primary"), fixtures.location("ZRH-1", "CH", "backup")]
	result := decide(fixtures.with_region({"data_locations": locations}), health)
	rules(result.deny) == {"hds.hosting_location"}
}

test_norway_is_in_the_eea if {
	locations := [fixtures.location("OSL-1", "NO", "primary")]
	result := decide(fixtures.with_region({"data_locations": locations}), health)
	count(result.deny) == 0
}

test_third_country_access_must_be_disclosed if {
	vendor := {"id": "huawei", "name": "Huawei", "country": "CN", "access": "operations"}
	result := decide(fixtures.with_region({"support_staff_countries": ["FR", "MA"], "vendor": vendor}), health)
	count(result.deny) == 0
	rules(result.warn) == {"hds.third_country_access"}
	count(result.warn) == 2
}

test_every_entry_says_whom_its_text_binds_in_both_languages if {
	expired := object.union(fixtures.cert("hds", null, false, null), {"valid_until": "2026-11-24"})
	locations := [fixtures.location("PAR-1", "FR", "primary"), fixtures.location("ZRH-1", "CH", "backup")]
	region := fixtures.with_region({"certifications": [expired], "data_locations": locations, "admin_staff_countries": ["MA"]})
	result := decide(region, health)
	rules(result.deny) == {"hds.certificate", "hds.hosting_location"}
	rules(result.warn) == {"hds.third_country_access"}
	every v in array.concat([d | some d in result.deny], [w | some w in result.warn]) {
		contains(v.binds, "whatever the tenant's category")
		v.binds_fr != ""
		v.message_fr != ""
		v.source_fr != ""
	}
	some d in result.deny
	d.rule == "hds.certificate"
	contains(d.message_fr, "a pris fin le 2026-11-24")
}

# HDS binds every tenant with health data: the same denial for a private clinic and for a ministry.
test_hds_denies_whatever_the_tenant_s_category if {
	region := fixtures.with_region({"certifications": []})
	rules(decide(region, fixtures.as_category(health, "private")).deny) == {"hds.certificate"}
	rules(decide(region, fixtures.as_category(health, "state_administration")).deny) == {"hds.certificate"}
}

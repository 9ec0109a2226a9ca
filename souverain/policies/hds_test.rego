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

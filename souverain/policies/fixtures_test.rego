# Shared fixtures for the packs' tests: a sovereign French region that passes every pack, a workload, and a
# knowledge base. Tests derive the faulty cases from these with object.union, one change at a time.
#
# regopy 1.5.2 quirks these tests work around (see INPUT.md):
#  - `with input as {...}` fails to compile and `with x as <rule>` silently misbehaves, so each test file's
#    decide() passes the input key by key from local variables;
#  - a dynamic package reference (data.souverain[pack]) under `with` exhausts memory, so decide() names its
#    pack statically;
#  - object.union is shallow, so nested objects are merged explicitly.
package souverain.fixtures

import rego.v1

date := "2026-11-25"

kb := {
	"eu_countries": [
		"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
		"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
	],
	"eea_countries": [
		"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
		"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO",
	],
	"adequacy": [
		{"country": "CH", "scope": "full"},
		{"country": "GB", "scope": "full"},
		{"country": "JP", "scope": "full"},
		{"country": "CA", "scope": "commercial"},
		{"country": "US", "scope": "dpf_certified_only"},
	],
	"dpf_certified": ["certified-us-inc"],
	"laws": [
		{"id": "us-cloud-act", "country": "US"},
		{"id": "cn-intelligence-law", "country": "CN"},
		{"id": "fr-law", "country": "FR"},
	],
}

# A law the knowledge base gains later: no rule names it, the no_foreign_law requirement must still cover it.
kb_with_law(id, country) := object.union(kb, {"laws": array.concat(kb.laws, [{"id": id, "country": country}])})

# A ministry: a State administration, bound by the "cloud au centre" doctrine for sensitive data.
workload := {
	"tenant": "ministere-interieur",
	"tenant_category": "state_administration",
	"data_classes": ["internal"],
	"unknown_labels": [],
	"requirements": {
		"secnumcloud": false, "eu_only": false, "no_exposure_to": [], "customer_held_keys": false,
		"no_foreign_law": false, "allowed_countries": [], "eucs_level": null, "packs": [],
	},
	"safeguards": [],
}

operator := {
	"id": "souverain-cloud", "name": "Souverain Cloud SAS", "country": "FR", "eu": true,
	"chain": [
		{"id": "souverain-cloud", "name": "Souverain Cloud SAS", "country": "FR", "eu": true, "relation": "operator"},
		{"id": "groupe-public", "name": "Groupe Public SA", "country": "FR", "eu": true, "relation": "parent"},
	],
}

ownership := {
	"passed": true, "non_eu_single_max": null, "non_eu_total_capital": 0, "non_eu_total_voting": 0,
	"thresholds": {"single": 24, "total": 39}, "explanation": ["No non-EU shareholder."],
}

location(datacenter, country, role) := {
	"datacenter": datacenter, "country": country, "role": role,
	"operator": {"name": "Souverain Cloud SAS", "country": "FR"},
}

cert(scheme, level, valid, days) := {
	"scheme": scheme, "version": "3.2", "level": level, "scope": "IaaS",
	"valid_from": "2025-01-01", "valid_until": "2027-12-31", "valid": valid, "days_to_expiry": days,
}

region := {
	"id": "sovereign/fr-paris-1", "name": "fr-paris-1",
	"cloud": {"id": "sovereign", "name": "Sovereign cloud", "kind": "openstack"},
	"operator": operator,
	"ownership": ownership,
	"data_locations": [location("PAR-1", "FR", "primary"), location("LYO-1", "FR", "backup")],
	"data_countries": ["FR"],
	"admin_staff_countries": ["FR"],
	"support_staff_countries": ["FR"],
	"vendor": null,
	"hardware_vendors": [],
	"key_custody": {"holder": "provider", "country": "FR"},
	"certifications": [
		cert("secnumcloud", null, true, 401),
		cert("hds", null, true, 401),
	],
	"exposure": [],
}

# An exposure entry as the region profile builder writes it.
exposure(law, country, channel, strength) := {
	"law": law, "law_name": law, "country": country, "channel": channel, "strength": strength,
	"explanation": sprintf("Region sovereign/fr-paris-1 is reached by %s through %s", [law, channel]),
}

with_region(changes) := object.union(region, changes)

with_requirements(changes) := object.union(workload, {"requirements": object.union(workload.requirements, changes)})

with_classes(classes) := object.union(workload, {"data_classes": classes})

# The same workload for a tenant of another legal category (private, critical_operator, public_body...).
as_category(w, category) := object.union(w, {"tenant_category": category})

require(w, changes) := object.union(w, {"requirements": object.union(w.requirements, changes)})

rules(violations) := {v.rule | some v in violations}

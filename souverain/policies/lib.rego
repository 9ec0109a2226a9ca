# Helpers shared by the built-in packs. Not a pack: it has no deny/warn and never applies by itself.
#
# Every sovereignty fact (EU and EEA membership, adequacy decisions, DPF certification) is read from
# input.kb, which the knowledge base fills with dated, sourced data; nothing here hard-codes a country.
package souverain.lib

import rego.v1

in_eu(country) if country in input.kb.eu_countries

# The EEA is the EU plus Iceland, Liechtenstein and Norway; accept either list so that a knowledge base
# which lists only the three extra states in eea_countries still counts EU members as EEA.
in_eea(country) if country in input.kb.eea_countries

in_eea(country) if in_eu(country)

region := input.region.id

# Access levels through which a vendor can reach customer data or systems (software_supply cannot).
vendor_access_levels := {"remote_support", "operations"}

vendor_has_access if input.region.vendor.access in vendor_access_levels

# Everyone who can reach the data from somewhere, with the channel, for the staff and vendor rules.
accessors contains {"country": c, "who": "administration staff"} if {
	some c in input.region.admin_staff_countries
}

accessors contains {"country": c, "who": "support staff"} if {
	some c in input.region.support_staff_countries
}

accessors contains {"country": v.country, "who": sprintf("vendor %s (%s)", [v.name, v.access])} if {
	v := input.region.vendor
	vendor_has_access
}

valid_certs(scheme) := [c | some c in input.region.certifications; c.scheme == scheme; c.valid]

# Comma-separated list for messages. The substring() is a no-op in OPA; it is here because regopy 1.5.2's
# sprintf("%s") wraps a string returned by concat() in quotes, and a substring() result is printed plainly.
list(xs) := substring(concat(", ", xs), 0, -1)

settings(pack, key, fallback) := object.get(data.settings, [pack, key], fallback)

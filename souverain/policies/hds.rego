# HDS, the French certification of health-data hosts (2024 referential). Health data in France requires an
# HDS-certified host; the 2024 referential keeps the hosting itself in the EEA and requires any remote
# access from a third country to be disclosed in the contract (disclosed, not forbidden: hence a warning).
package souverain.hds

import data.souverain.lib
import rego.v1

certification := "HDS referential 2024 (certified host; certificate validity dates)"

hosting := "HDS referential 2024 (physical hosting in the EEA)"

disclosure := "HDS referential 2024 (remote access from a third country disclosed in the contract)"

hds_certs := [c | some c in input.region.certifications; c.scheme == "hds"]

# Name the most recent lapsed certificate, if any, so the message says what happened.
lapsed := sprintf(" (certificate %s ended on %s)", [c.version, c.valid_until]) if {
	c := [c | some c in hds_certs; c.valid_until != null; c.valid_until < input.date][0]
} else := ""

deny contains {
	"rule": "hds.certificate",
	"message": sprintf("Region %s has no HDS certificate valid on %s%s.", [lib.region, input.date, lapsed]),
	"facts": {"date": input.date, "certifications": hds_certs},
	"source": certification,
} if {
	count(lib.valid_certs("hds")) == 0
}

warn contains {
	"rule": "hds.certificate_expiring",
	"message": sprintf("Region %s: the HDS certificate (%s) expires on %s, in %v days.", [
		lib.region, cert.version, cert.valid_until, cert.days_to_expiry,
	]),
	"facts": {"version": cert.version, "valid_until": cert.valid_until, "days_to_expiry": cert.days_to_expiry},
	"source": certification,
} if {
	some cert in lib.valid_certs("hds")
	cert.days_to_expiry != null
	cert.days_to_expiry <= lib.settings("hds", "expiry_warning_days", 90)
}

deny contains {
	"rule": "hds.hosting_location",
	"message": sprintf("Region %s hosts %s data in %s (%s), outside the EEA.", [
		lib.region, loc.role, loc.country, loc.datacenter,
	]),
	"facts": {"datacenter": loc.datacenter, "country": loc.country, "role": loc.role},
	"source": hosting,
} if {
	some loc in input.region.data_locations
	not lib.in_eea(loc.country)
}

warn contains {
	"rule": "hds.third_country_access",
	"message": sprintf("Region %s: %s can reach health data from %s; this must be disclosed in the contract.", [
		lib.region, accessor.who, accessor.country,
	]),
	"facts": accessor,
	"source": disclosure,
} if {
	some accessor in lib.accessors
	not lib.in_eea(accessor.country)
}

# HDS, the French certification of health-data hosts (2024 referential; Code de la santé publique L.1111-8).
#
#   binds: whoever has personal health data hosted by a third party, and the host — whatever the tenant's
#          legal category. So these rules deny for every tenant with health data:
#          - a valid HDS certificate (deny);
#          - physical hosting in the EEA (deny);
#          - remote access from a third country disclosed in the contract (disclosed, not forbidden: warn).
#   Exposure to a foreign law through the operator's control chain alone is not an unlawful transfer (EDPB
#   guidelines 05/2021): the extraterritorial pack warns about it unless the workload excludes the law.
package souverain.hds

import data.souverain.lib
import rego.v1

certification := "HDS referential 2024 (certified host; certificate validity dates)"

certification_fr := "Référentiel HDS 2024 (hébergeur certifié ; dates de validité du certificat)"

hosting := "HDS referential 2024 (physical hosting in the EEA)"

hosting_fr := "Référentiel HDS 2024 (hébergement physique dans l'EEE)"

disclosure := "HDS referential 2024 (remote access from a third country disclosed in the contract)"

disclosure_fr := "Référentiel HDS 2024 (accès à distance depuis un pays tiers déclaré dans le contrat)"

binds := "whoever has personal health data hosted by a third party, and the host (Code de la santé publique L.1111-8), whatever the tenant's category"

binds_fr := "quiconque fait héberger des données de santé à caractère personnel par un tiers, et l'hébergeur (code de la santé publique, L.1111-8), quelle que soit la catégorie du client"

hds_certs := [c | some c in input.region.certifications; c.scheme == "hds"]

lapsed_cert := [c | some c in hds_certs; c.valid_until != null; c.valid_until < input.date][0]

# Name the most recent lapsed certificate, if any, so the message says what happened.
lapsed := sprintf(" (certificate %s ended on %s)", [lapsed_cert.version, lapsed_cert.valid_until]) if {
	lapsed_cert
} else := ""

lapsed_fr := sprintf(" (le certificat %s a pris fin le %s)", [lapsed_cert.version, lapsed_cert.valid_until]) if {
	lapsed_cert
} else := ""

deny contains {
	"rule": "hds.certificate",
	"message": sprintf("Region %s has no HDS certificate valid on %s%s.", [lib.region, input.date, lapsed]),
	"message_fr": sprintf("La région %s n'a pas de certificat HDS valide le %s%s.", [lib.region, input.date, lapsed_fr]),
	"facts": {"date": input.date, "certifications": hds_certs},
	"source": certification,
	"source_fr": certification_fr,
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	count(lib.valid_certs("hds")) == 0
}

warn contains {
	"rule": "hds.certificate_expiring",
	"message": sprintf("Region %s: the HDS certificate (%s) expires on %s, in %v days.", [
		lib.region, cert.version, cert.valid_until, cert.days_to_expiry,
	]),
	"message_fr": sprintf("Région %s : le certificat HDS (%s) expire le %s, dans %v jours.", [
		lib.region, cert.version, cert.valid_until, cert.days_to_expiry,
	]),
	"facts": {"version": cert.version, "valid_until": cert.valid_until, "days_to_expiry": cert.days_to_expiry},
	"source": certification,
	"source_fr": certification_fr,
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	some cert in lib.valid_certs("hds")
	cert.days_to_expiry != null
	cert.days_to_expiry <= lib.settings("hds", "expiry_warning_days", 90)
}

deny contains {
	"rule": "hds.hosting_location",
	"message": sprintf("Region %s hosts %s data in %s (%s), outside the EEA.", [
		lib.region, lib.label(lib.role_label, loc.role), loc.country, loc.datacenter,
	]),
	"message_fr": sprintf("La région %s héberge des données %s en dehors de l'EEE : %s (%s).", [
		lib.region, lib.label(lib.role_label_fr, loc.role), loc.country, loc.datacenter,
	]),
	"facts": {"datacenter": loc.datacenter, "country": loc.country, "role": loc.role},
	"source": hosting,
	"source_fr": hosting_fr,
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	some loc in input.region.data_locations
	not lib.in_eea(loc.country)
}

warn contains {
	"rule": "hds.third_country_access",
	"message": sprintf("Region %s: %s can reach health data from %s; this must be disclosed in the contract.", [
		lib.region, accessor.who, accessor.country,
	]),
	"message_fr": sprintf(
		"Région %s : %s peut accéder aux données de santé depuis un pays tiers (%s) ; le contrat doit le déclarer.",
		[lib.region, accessor.who_fr, accessor.country],
	),
	"facts": accessor,
	"source": disclosure,
	"source_fr": disclosure_fr,
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	some accessor in lib.accessors
	not lib.in_eea(accessor.country)
}

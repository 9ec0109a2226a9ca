# Requirements a tenant sets on a workload, whatever the regulations: EU only, a list of allowed countries,
# customer-held keys. (requirements.no_exposure_to and no_foreign_law are judged by the extraterritorial pack,
# which packs.yaml turns on whenever they are set: one rule for one question.)
#
#   binds: the tenant itself — its own requirement, whatever its category — so every rule here denies.
#   Labels the workload carries that no rule can read (an unknown data class from a resource's tags or a
#   tenant's stored defaults, a law id the knowledge base does not know) are violations of their own: an
#   unreadable label may hide sensitive data or a law the tenant meant to exclude, so it fails closed, visibly.
package souverain.requirements

import data.souverain.lib
import rego.v1

wanted := input.workload.requirements

binds := "this tenant, by its own requirement for this workload"

binds_fr := "ce client, par sa propre exigence pour cette charge de travail"

# Where the data is (primary and backup) and where it can be reached from by the provider's staff.
places contains {"country": c, "what": "data", "what_fr": "des données"} if {
	some c in input.region.data_countries
}

places contains {"country": c, "what": "administration staff", "what_fr": "du personnel d'administration"} if {
	some c in input.region.admin_staff_countries
}

places contains {"country": c, "what": "support staff", "what_fr": "du personnel de support"} if {
	some c in input.region.support_staff_countries
}

deny contains {
	"rule": "requirements.eu_only",
	"message": sprintf(
		"Region %s has %s in %s; the workload must stay in the EU.",
		[lib.region, place.what, place.country],
	),
	"message_fr": sprintf(
		"La région %s a %s en dehors de l'UE (%s) ; la charge de travail doit rester dans l'UE.",
		[lib.region, place.what_fr, place.country],
	),
	"facts": place,
	"source": "Tenant requirement eu_only",
	"source_fr": "Exigence du client eu_only (UE uniquement)",
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	wanted.eu_only
	some place in places
	not lib.in_eu(place.country)
}

deny contains {
	"rule": "requirements.allowed_countries",
	"message": sprintf("Region %s has %s in %s; the workload allows only %s.", [
		lib.region, place.what, place.country, lib.list(wanted.allowed_countries),
	]),
	"message_fr": sprintf("La région %s a %s en %s ; la charge de travail n'admet que %s.", [
		lib.region, place.what_fr, place.country, lib.list(wanted.allowed_countries),
	]),
	"facts": object.union(place, {"allowed_countries": wanted.allowed_countries}),
	"source": "Tenant requirement allowed_countries",
	"source_fr": "Exigence du client allowed_countries (pays autorisés)",
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	count(wanted.allowed_countries) > 0
	some place in places
	not place.country in wanted.allowed_countries
}

deny contains {
	"rule": "requirements.customer_held_keys",
	"message": sprintf("Region %s: encryption keys are held by the provider; the workload requires customer-held keys.", [
		lib.region,
	]),
	"message_fr": sprintf(
		"Région %s : les clés de chiffrement sont détenues par le fournisseur ; la charge de travail exige des clés détenues par le client.",
		[lib.region],
	),
	"facts": input.region.key_custody,
	"source": "Tenant requirement customer_held_keys",
	"source_fr": "Exigence du client customer_held_keys (clés détenues par le client)",
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	wanted.customer_held_keys
	input.region.key_custody.holder == "provider"
}

# Keys the customer holds are only as safe as the place they are kept: say so when that place is not declared.
warn contains {
	"rule": "requirements.key_location_unknown",
	"message": sprintf("Region %s: keys are held by %s but where they are kept is not declared.", [
		lib.region, lib.label(lib.holder_label, input.region.key_custody.holder),
	]),
	"message_fr": sprintf("Région %s : les clés sont détenues par %s, mais leur emplacement n'est pas déclaré.", [
		lib.region, lib.label(lib.holder_label_fr, input.region.key_custody.holder),
	]),
	"facts": input.region.key_custody,
	"source": "Tenant requirement customer_held_keys",
	"source_fr": "Exigence du client customer_held_keys (clés détenues par le client)",
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	wanted.customer_held_keys
	input.region.key_custody.holder != "provider"
	input.region.key_custody.country == null
}

unknown_what := {"data_classes": "data class", "requirements": "requirement"}

unknown_what_fr := {"data_classes": "la classe de données inconnue", "requirements": "l'exigence inconnue"}

deny contains {
	"rule": "requirements.unknown_label",
	"message": sprintf(
		"The workload is labelled with the unknown %s '%s': it cannot be checked until it is labelled with a known one.",
		[lib.label(unknown_what, label.field), label.value],
	),
	"message_fr": sprintf(
		"La charge de travail porte %s '%s' : elle ne peut être vérifiée tant qu'elle ne porte pas une étiquette connue.",
		[lib.label(unknown_what_fr, label.field), label.value],
	),
	"facts": label,
	"source": "Workload labels (souverain:classes, the tenant's default data classes)",
	"source_fr": "Étiquettes de la charge de travail (souverain:classes, classes de données par défaut du client)",
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	some label in object.get(input.workload, "unknown_labels", [])
}

known_laws := {law.id | some law in input.kb.laws}

deny contains {
	"rule": "requirements.unknown_law",
	"message": sprintf(
		"The workload excludes the law '%s', which the knowledge base does not know: no exposure can be checked against it.",
		[law],
	),
	"message_fr": sprintf(
		"La charge de travail exclut la loi '%s', que la base de connaissances ne connaît pas : aucune exposition ne peut être vérifiée.",
		[law],
	),
	"facts": {"law": law},
	"source": "Tenant requirement no_exposure_to (law ids of the knowledge base)",
	"source_fr": "Exigence du client no_exposure_to (identifiants de lois de la base de connaissances)",
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	count(known_laws) > 0
	some law in wanted.no_exposure_to
	not law in known_laws
}

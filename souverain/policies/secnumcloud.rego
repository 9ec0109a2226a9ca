# SecNumCloud 3.2 (ANSSI qualification, March 2022): protection from non-EU law and EU-only operations.
# The pack applies to sensitive data and to workloads that require SecNumCloud (packs.yaml); whether its
# findings DENY or only WARN depends on who the tenant is:
#
#   binds: State administrations and public bodies, for data of particular sensitivity — circular 6282/SG
#          "cloud au centre" (2021, updated 2023) and law SREN (2024) art. 31 (packs.yaml: cloud_au_centre);
#          and any tenant whose workload sets requirements.secnumcloud (its own requirement).
#   warns: everyone else — critical operators (OIV/OSE: LPM and NIS2 impose security measures, not a
#          qualification), regulated health and finance, private companies. A data label alone never makes
#          SecNumCloud an obligation.
#
# Each finding below names its SecNumCloud criterion (source); deny/warn at the end add whom it binds.
package souverain.secnumcloud

import data.souverain.lib
import rego.v1

seat := "SecNumCloud 3.2 §19.6 (registered office, central administration and principal establishment in the EU)"

seat_fr := "SecNumCloud 3.2 §19.6 (siège social, administration centrale et principal établissement dans l'UE)"

control := "SecNumCloud 3.2 §19.6 (no non-EU entity controls the provider)"

control_fr := "SecNumCloud 3.2 §19.6 (aucune entité hors UE ne contrôle le prestataire)"

ownership_source := "SecNumCloud 3.2 §19.6 (non-EU holdings: ≤ 24 % alone, ≤ 39 % together)"

ownership_source_fr := "SecNumCloud 3.2 §19.6 (participations hors UE : ≤ 24 % seule, ≤ 39 % ensemble)"

localisation := "SecNumCloud 3.2 §19.6 (data stored and processed in the EU)"

localisation_fr := "SecNumCloud 3.2 §19.6 (données stockées et traitées dans l'UE)"

administration := "SecNumCloud 3.2 §19.6 (privileged administration initiated and performed from the EU)"

administration_fr := "SecNumCloud 3.2 §19.6 (administration à privilèges initiée et réalisée depuis l'UE)"

support := "SecNumCloud 3.2 §19.6 (support staff in the EU)"

support_fr := "SecNumCloud 3.2 §19.6 (personnel de support dans l'UE)"

keys := "SecNumCloud 3.2 §19.6 (keys held in the EU)"

keys_fr := "SecNumCloud 3.2 §19.6 (clés détenues dans l'UE)"

qualification := "SecNumCloud 3.2 (ANSSI qualification and its validity dates)"

qualification_fr := "SecNumCloud 3.2 (qualification ANSSI et ses dates de validité)"

# --- who is bound --------------------------------------------------------------------------------------------

obligation := lib.settings("secnumcloud", "obligation", {
	"text": "", "text_fr": "", "binds": "", "binds_fr": "", "tenant_categories": [], "data_classes": [],
})

required := input.workload.requirements.secnumcloud == true

# Why the findings deny, when they do: the doctrine binding this tenant for this data, else its own requirement.
basis := {
	"text": obligation.text, "text_fr": obligation.text_fr,
	"binds": obligation.binds, "binds_fr": obligation.binds_fr,
} if {
	lib.bound_by(obligation)
} else := {
	"text": "the workload's own requirement (secnumcloud)",
	"text_fr": "l'exigence propre de la charge de travail (secnumcloud)",
	"binds": "this tenant, which requires SecNumCloud for this workload",
	"binds_fr": "ce client, qui exige SecNumCloud pour cette charge de travail",
} if {
	required
}

binding if basis

# Why a finding is only a recommendation for this tenant and workload, in a sentence of each language.
not_bound := "this workload holds no data of that kind" if {
	lib.category in obligation.tenant_categories
} else := sprintf("this tenant is %s", [lib.label(lib.category_label, lib.category)])

not_bound_fr := "cette charge de travail ne contient pas de telles données" if {
	lib.category in obligation.tenant_categories
} else := sprintf("ce client est %s", [lib.label(lib.category_label_fr, lib.category)])

deny contains object.union(finding, {
	"source": sprintf("%s; %s", [finding.source, basis.text]),
	"source_fr": sprintf("%s ; %s", [finding.source_fr, basis.text_fr]),
	"binds": basis.binds, "binds_fr": basis.binds_fr,
}) if {
	binding
	some finding in findings
}

warn contains object.union(finding, {
	"message": sprintf("%s Recommended, not required: an obligation of %s (%s); %s.", [
		finding.message, obligation.binds, obligation.text, not_bound,
	]),
	"message_fr": sprintf("%s Recommandation, non obligation : c'est une obligation pour %s (%s) ; %s.", [
		finding.message_fr, obligation.binds_fr, obligation.text_fr, not_bound_fr,
	]),
	"binds": obligation.binds, "binds_fr": obligation.binds_fr,
}) if {
	not binding
	some finding in findings
}

# --- the criteria ---------------------------------------------------------------------------------------------

operator := input.region.operator

findings contains {
	"rule": "secnumcloud.operator_seat",
	"message": sprintf(
		"Region %s is operated by %s, whose seat is in %s, outside the EU.",
		[lib.region, operator.name, operator.country],
	),
	"message_fr": sprintf(
		"La région %s est exploitée par %s, dont le siège est en dehors de l'UE (%s).",
		[lib.region, operator.name, operator.country],
	),
	"facts": {"operator": operator.name, "country": operator.country},
	"source": seat,
	"source_fr": seat_fr,
} if {
	not lib.in_eu(operator.country)
}

# The operator itself is judged by operator_seat; here every parent or shareholder up the chain.
findings contains {
	"rule": "secnumcloud.chain_control",
	"message": sprintf("Region %s: %s (%s, %s of the operator %s) is outside the EU.", [
		lib.region, entity.name, entity.country, lib.label(lib.relation_label, entity.relation), operator.name,
	]),
	"message_fr": sprintf("Région %s : %s (%s, %s de l'opérateur %s) est en dehors de l'UE.", [
		lib.region, entity.name, entity.country, lib.label(lib.relation_label_fr, entity.relation), operator.name,
	]),
	"facts": {"entity": entity.name, "country": entity.country, "relation": entity.relation},
	"source": control,
	"source_fr": control_fr,
} if {
	some entity in operator.chain
	entity.relation != "operator"
	not lib.in_eu(entity.country)
}

ownership := input.region.ownership

# Any of the shares above the limit. Not max(shares) > limit: regopy 1.5.2's max/min/sort order numbers as
# text (max([5, 25]) is 5), so 5 % of capital with 25 % of votes passed (secnumcloud_boundaries_test.rego).
above(limit, shares) if {
	some share in shares
	share > limit
}

# Both capital and voting rights count: either above the threshold is a finding.
findings contains {
	"rule": "secnumcloud.ownership_single",
	"message": sprintf(
		"Region %s: %s (%s) holds %v %% of capital and %v %% of voting rights in %s; one non-EU holder may have %v %%.",
		[
			lib.region, holder.entity, holder.country, holder.capital, holder.voting, operator.name,
			ownership.thresholds.single,
		],
	),
	"message_fr": sprintf(
		"Région %s : %s (%s) détient %v %% du capital et %v %% des droits de vote de %s ; un détenteur hors UE peut en avoir %v %% au plus.",
		[
			lib.region, holder.entity, holder.country, holder.capital, holder.voting, operator.name,
			ownership.thresholds.single,
		],
	),
	"facts": {"holder": holder, "threshold": ownership.thresholds.single},
	"source": ownership_source,
	"source_fr": ownership_source_fr,
} if {
	holder := ownership.non_eu_single_max
	holder != null
	above(ownership.thresholds.single, [holder.capital, holder.voting])
}

findings contains {
	"rule": "secnumcloud.ownership_total",
	"message": sprintf(
		"Region %s: non-EU entities together hold %v %% of capital and %v %% of voting rights in %s; the limit is %v %%.",
		[
			lib.region, ownership.non_eu_total_capital, ownership.non_eu_total_voting, operator.name,
			ownership.thresholds.total,
		],
	),
	"message_fr": sprintf(
		"Région %s : les entités hors UE détiennent ensemble %v %% du capital et %v %% des droits de vote de %s ; la limite est de %v %%.",
		[
			lib.region, ownership.non_eu_total_capital, ownership.non_eu_total_voting, operator.name,
			ownership.thresholds.total,
		],
	),
	"facts": {
		"capital": ownership.non_eu_total_capital, "voting": ownership.non_eu_total_voting,
		"threshold": ownership.thresholds.total, "explanation": ownership.explanation,
	},
	"source": ownership_source,
	"source_fr": ownership_source_fr,
} if {
	above(ownership.thresholds.total, [ownership.non_eu_total_capital, ownership.non_eu_total_voting])
}

findings contains {
	"rule": "secnumcloud.data_location",
	"message": sprintf("Region %s keeps %s data in %s (%s), outside the EU.", [
		lib.region, lib.label(lib.role_label, loc.role), loc.country, loc.datacenter,
	]),
	"message_fr": sprintf("La région %s conserve des données %s en dehors de l'UE : %s (%s).", [
		lib.region, lib.label(lib.role_label_fr, loc.role), loc.country, loc.datacenter,
	]),
	"facts": {"datacenter": loc.datacenter, "country": loc.country, "role": loc.role},
	"source": localisation,
	"source_fr": localisation_fr,
} if {
	some loc in input.region.data_locations
	not lib.in_eu(loc.country)
}

findings contains {
	"rule": "secnumcloud.admin_staff",
	"message": sprintf("Region %s is administered from %s, outside the EU.", [lib.region, country]),
	"message_fr": sprintf("La région %s est administrée depuis %s, en dehors de l'UE.", [lib.region, country]),
	"facts": {"country": country},
	"source": administration,
	"source_fr": administration_fr,
} if {
	some country in input.region.admin_staff_countries
	not lib.in_eu(country)
}

findings contains {
	"rule": "secnumcloud.support_staff",
	"message": sprintf("Region %s has support staff in %s, outside the EU.", [lib.region, country]),
	"message_fr": sprintf("La région %s a du personnel de support en dehors de l'UE (%s).", [lib.region, country]),
	"facts": {"country": country},
	"source": support,
	"source_fr": support_fr,
} if {
	some country in input.region.support_staff_countries
	not lib.in_eu(country)
}

findings contains {
	"rule": "secnumcloud.vendor_access",
	"message": sprintf("Region %s: stack vendor %s (%s) has %s access from outside the EU.", [
		lib.region, vendor.name, vendor.country, lib.label(lib.access_label, vendor.access),
	]),
	"message_fr": sprintf("Région %s : le fournisseur de la pile %s (%s) a un accès (%s) depuis l'extérieur de l'UE.", [
		lib.region, vendor.name, vendor.country, lib.label(lib.access_label_fr, vendor.access),
	]),
	"facts": {"vendor": vendor.name, "country": vendor.country, "access": vendor.access},
	"source": administration,
	"source_fr": administration_fr,
} if {
	vendor := input.region.vendor
	lib.vendor_has_access
	not lib.in_eu(vendor.country)
}

custody := input.region.key_custody

findings contains {
	"rule": "secnumcloud.key_custody",
	"message": sprintf("Region %s: encryption keys are held by %s in %s, outside the EU.", [
		lib.region, lib.label(lib.holder_label, custody.holder), custody.country,
	]),
	"message_fr": sprintf("Région %s : les clés de chiffrement sont détenues par %s en dehors de l'UE (%s).", [
		lib.region, lib.label(lib.holder_label_fr, custody.holder), custody.country,
	]),
	"facts": {"holder": custody.holder, "country": custody.country},
	"source": keys,
	"source_fr": keys_fr,
} if {
	custody.country != null
	not lib.in_eu(custody.country)
}

# A provider that cannot say where it keeps the keys it holds does not meet the requirement.
findings contains {
	"rule": "secnumcloud.key_custody",
	"message": sprintf("Region %s: encryption keys are held by %s in an undeclared country.", [
		lib.region, lib.label(lib.holder_label, custody.holder),
	]),
	"message_fr": sprintf("Région %s : les clés de chiffrement sont détenues par %s dans un pays non déclaré.", [
		lib.region, lib.label(lib.holder_label_fr, custody.holder),
	]),
	"facts": {"holder": custody.holder, "country": null},
	"source": keys,
	"source_fr": keys_fr,
} if {
	custody.country == null
	custody.holder != "customer"
}

findings contains {
	"rule": "secnumcloud.qualification",
	"message": sprintf("Region %s has no SecNumCloud qualification valid on %s.", [lib.region, input.date]),
	"message_fr": sprintf("La région %s n'a pas de qualification SecNumCloud valide le %s.", [lib.region, input.date]),
	"facts": {
		"date": input.date,
		"certifications": [c | some c in input.region.certifications; c.scheme == "secnumcloud"],
	},
	"source": qualification,
	"source_fr": qualification_fr,
} if {
	count(lib.valid_certs("secnumcloud")) == 0
}

# Whoever is bound or not, an expiring qualification is worth knowing: a warning with the text that makes it
# matter.
warn contains {
	"rule": "secnumcloud.qualification_expiring",
	"message": sprintf("Region %s: the SecNumCloud qualification (%s) expires on %s, in %v days.", [
		lib.region, cert.scope, cert.valid_until, cert.days_to_expiry,
	]),
	"message_fr": sprintf("Région %s : la qualification SecNumCloud (%s) expire le %s, dans %v jours.", [
		lib.region, cert.scope, cert.valid_until, cert.days_to_expiry,
	]),
	"facts": {"valid_until": cert.valid_until, "days_to_expiry": cert.days_to_expiry, "scope": cert.scope},
	"source": qualification,
	"source_fr": qualification_fr,
	"binds": obligation.binds,
	"binds_fr": obligation.binds_fr,
} if {
	some cert in lib.valid_certs("secnumcloud")
	cert.days_to_expiry != null
	cert.days_to_expiry <= lib.settings("secnumcloud", "expiry_warning_days", 90)
}

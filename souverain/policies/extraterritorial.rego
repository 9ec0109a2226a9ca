# Exposure to non-EU laws that can compel access to data (US CLOUD Act, FISA 702, China's National
# Intelligence Law...). The region profile lists each exposure with its law, channel (legal control, data
# location, access, supply chain), strength and the explanation chain; this pack decides what is acceptable.
#
# In scope: every non-EU law for sensitive data (settings.sensitive_classes), the laws the workload lists in
# requirements.no_exposure_to, and with requirements.no_foreign_law every law of a non-EU country in the
# knowledge base (input.kb.laws: a law added to the knowledge base later is covered the day it is loaded).
#
# Who is bound, so whether a compelled exposure DENIES or WARNS:
#   binds: the tenant itself when its workload excludes the law (no_exposure_to, no_foreign_law);
#          State administrations and public bodies for data of particular sensitivity — circular 6282/SG
#          "cloud au centre" (2021, updated 2023) and law SREN (2024) art. 31 require an offer immune to
#          non-EU law (packs.yaml: cloud_au_centre).
#   warns: everyone else. For personal and health data, exposure to a foreign law — a parent company that
#          could be compelled — is a risk to assess (GDPR art. 32), not an unlawful transfer by itself
#          (EDPB guidelines 05/2021 on the interplay of art. 3 and chapter V); actual transfers (data stored
#          or reached from a third country) are judged by gdpr_transfers, hosting and certification by hds.
package souverain.extraterritorial

import data.souverain.lib
import rego.v1

sensitive_classes := lib.settings(
	"extraterritorial", "sensitive_classes",
	["diffusion_restreinte", "critical_operator", "special_category", "health"],
)

obligation := lib.settings("extraterritorial", "obligation", {
	"text": "", "text_fr": "", "binds": "", "binds_fr": "", "tenant_categories": [], "data_classes": [],
})

edpb := "EDPB guidelines 05/2021 on the interplay of GDPR art. 3 and chapter V (exposure is not a transfer by itself); GDPR art. 32 (a risk to assess)"

edpb_fr := "Lignes directrices 05/2021 du CEPD sur l'articulation de l'art. 3 et du chapitre V du RGPD (l'exposition n'est pas en soi un transfert) ; RGPD art. 32 (un risque à évaluer)"

residual := "SecNumCloud 3.2 §5.3.d (residual extraterritorial risk)"

residual_fr := "SecNumCloud 3.2 §5.3.d (risque extraterritorial résiduel)"

residual_binds := "cloud providers qualified or seeking qualification, which document the residual risk"

residual_binds_fr := "les prestataires qualifiés ou en voie de qualification, qui documentent le risque résiduel"

own_requirement := "this tenant, whose workload excludes this law"

own_requirement_fr := "ce client, dont la charge de travail exclut cette loi"

sensitive := [c | some c in input.workload.data_classes; c in sensitive_classes]

wanted := input.workload.requirements

# The workload itself excludes the law: by name, or as a law of a non-EU country of the knowledge base.
excluded(exposure) if exposure.law in wanted.no_exposure_to

excluded(exposure) if {
	wanted.no_foreign_law == true
	some law in input.kb.laws
	law.id == exposure.law
	not lib.in_eu(law.country)
}

in_scope(exposure) if {
	count(sensitive) > 0
	not lib.in_eu(exposure.country)
}

in_scope(exposure) if excluded(exposure)

# A compelled exposure is forbidden (deny) only by an obligation of this tenant.
binding(exposure) if excluded(exposure)

binding(exposure) if {
	lib.bound_by(obligation)
	not lib.in_eu(exposure.country)
}

binds(exposure) := {"binds": own_requirement, "binds_fr": own_requirement_fr} if {
	excluded(exposure)
} else := {"binds": obligation.binds, "binds_fr": obligation.binds_fr}

# With keys the customer holds, kept in the EU, a compelled provider (or the owner of a datacenter) can hand
# over ciphertext only. Access channels are not relieved: whoever administers the service sees clear data.
ciphertext_only if {
	wanted.customer_held_keys
	input.region.key_custody.holder != "provider"
	lib.in_eu(input.region.key_custody.country)
}

relieved_channels := {"legal_control", "data_location"}

compelled_channels := {"legal_control", "data_location", "access"}

relieved(exposure) if {
	exposure.channel in relieved_channels
	ciphertext_only
}

compelled(exposure) if {
	exposure.strength == "compelled"
	exposure.channel in compelled_channels
	in_scope(exposure)
}

# Why a denial, in a phrase of each language.
reason(exposure) := "this workload, which excludes this law" if {
	exposure.law in wanted.no_exposure_to
} else := "this workload, which excludes every non-EU law" if {
	excluded(exposure)
} else := sprintf("%s (%s)", [lib.label(lib.category_label, lib.category), lib.classes(bound_classes)])

reason_fr(exposure) := "cette charge de travail, qui exclut cette loi" if {
	exposure.law in wanted.no_exposure_to
} else := "cette charge de travail, qui exclut toute loi hors UE" if {
	excluded(exposure)
} else := sprintf("%s (%s)", [lib.label(lib.category_label_fr, lib.category), lib.classes_fr(bound_classes)])

bound_classes := [c | some c in input.workload.data_classes; c in obligation.data_classes]

# Why only a warning, in a sentence of each language.
not_bound := "this workload holds no data of that kind" if {
	lib.category in obligation.tenant_categories
} else := sprintf("this tenant is %s", [lib.label(lib.category_label, lib.category)])

not_bound_fr := "cette charge de travail ne contient pas de telles données" if {
	lib.category in obligation.tenant_categories
} else := sprintf("ce client est %s", [lib.label(lib.category_label_fr, lib.category)])

exposed(exposure) := sprintf("Region %s is exposed to the %s through %s: %s.", [
	lib.region, exposure.law_name, lib.label(lib.channel_label, exposure.channel), exposure.explanation,
])

exposed_fr(exposure) := sprintf("La région %s est exposée à la loi %s par %s : %s.", [
	lib.region, lib.law_name_fr(exposure), lib.label(lib.channel_label_fr, exposure.channel),
	lib.explanation_fr(exposure),
])

deny contains {
	"rule": "extraterritorial.compelled_exposure",
	"message": sprintf("%s Not acceptable for %s.", [exposed(exposure), reason(exposure)]),
	"message_fr": sprintf("%s Inacceptable pour %s.", [exposed_fr(exposure), reason_fr(exposure)]),
	"facts": exposure,
	"source": sprintf("%s; %s", [exposure.law_name, source]),
	"source_fr": sprintf("%s ; %s", [lib.law_name_fr(exposure), source_fr]),
	"binds": who.binds,
	"binds_fr": who.binds_fr,
} if {
	some exposure in input.region.exposure
	compelled(exposure)
	not relieved(exposure)
	binding(exposure)
	who := binds(exposure)
	[source, source_fr] := basis(exposure)
}

basis(exposure) := ["the workload's own requirement", "l'exigence propre de la charge de travail"] if {
	excluded(exposure)
} else := [obligation.text, obligation.text_fr]

warn contains {
	"rule": "extraterritorial.compelled_exposure",
	"message": sprintf(
		"%s A risk to assess (%s): exposure to a foreign law is not by itself an unlawful transfer, and it is forbidden only to %s, or to a workload that excludes this law; %s.",
		[exposed(exposure), lib.classes(sensitive), obligation.binds, not_bound],
	),
	"message_fr": sprintf(
		"%s Un risque à évaluer (%s) : l'exposition à une loi étrangère n'est pas en soi un transfert illicite, et elle n'est interdite que pour %s, ou pour une charge de travail qui exclut cette loi ; %s.",
		[exposed_fr(exposure), lib.classes_fr(sensitive), obligation.binds_fr, not_bound_fr],
	),
	"facts": exposure,
	"source": sprintf("%s; %s; %s", [exposure.law_name, edpb, obligation.text]),
	"source_fr": sprintf("%s ; %s ; %s", [lib.law_name_fr(exposure), edpb_fr, obligation.text_fr]),
	"binds": obligation.binds,
	"binds_fr": obligation.binds_fr,
} if {
	some exposure in input.region.exposure
	compelled(exposure)
	not relieved(exposure)
	not binding(exposure)
}

warn contains {
	"rule": "extraterritorial.ciphertext_only",
	"message": sprintf("%s With customer-held keys in %s it can yield ciphertext only.", [
		exposed(exposure), input.region.key_custody.country,
	]),
	"message_fr": sprintf("%s Avec des clés détenues par le client en %s, elle ne peut livrer que des données chiffrées.", [
		exposed_fr(exposure), input.region.key_custody.country,
	]),
	"facts": object.union(exposure, {"key_custody": input.region.key_custody}),
	"source": sprintf("%s; %s", [exposure.law_name, obligation.text]),
	"source_fr": sprintf("%s ; %s", [lib.law_name_fr(exposure), obligation.text_fr]),
	"binds": who.binds,
	"binds_fr": who.binds_fr,
} if {
	some exposure in input.region.exposure
	exposure.strength == "compelled"
	in_scope(exposure)
	relieved(exposure)
	who := binds(exposure)
}

warn contains {
	"rule": "extraterritorial.supply_chain",
	"message": sprintf("Region %s depends on a supplier under the %s: %s.", [
		lib.region, exposure.law_name, exposure.explanation,
	]),
	"message_fr": sprintf("La région %s dépend d'un fournisseur soumis à la loi %s : %s.", [
		lib.region, lib.law_name_fr(exposure), lib.explanation_fr(exposure),
	]),
	"facts": exposure,
	"source": sprintf("%s; supply-chain exposure (informational); %s", [exposure.law_name, residual]),
	"source_fr": sprintf("%s ; exposition par la chaîne d'approvisionnement (information) ; %s", [
		lib.law_name_fr(exposure), residual_fr,
	]),
	"binds": residual_binds,
	"binds_fr": residual_binds_fr,
} if {
	some exposure in input.region.exposure
	exposure.channel == "supply_chain"
	in_scope(exposure)
}

# Residual risk the provider must document (SecNumCloud 3.2 §5.3.d), e.g. intelligence collection that needs
# no cooperation from the provider.
warn contains {
	"rule": "extraterritorial.informational_exposure",
	"message": sprintf("Region %s is within reach of the %s through %s: %s.", [
		lib.region, exposure.law_name, lib.label(lib.channel_label, exposure.channel), exposure.explanation,
	]),
	"message_fr": sprintf("La région %s est à portée de la loi %s par %s : %s.", [
		lib.region, lib.law_name_fr(exposure), lib.label(lib.channel_label_fr, exposure.channel),
		lib.explanation_fr(exposure),
	]),
	"facts": exposure,
	"source": sprintf("%s; %s", [exposure.law_name, residual]),
	"source_fr": sprintf("%s ; %s", [lib.law_name_fr(exposure), residual_fr]),
	"binds": residual_binds,
	"binds_fr": residual_binds_fr,
} if {
	some exposure in input.region.exposure
	exposure.strength == "informational"
	exposure.channel in compelled_channels
	in_scope(exposure)
}

# GDPR chapter V (arts 44-49): personal data stored, backed up or accessed outside the EEA is a transfer.
# It needs an adequacy decision for the destination (art. 45), or appropriate safeguards such as SCCs or BCRs
# with a transfer impact assessment (art. 46), or a derogation (art. 49). Remote access is a transfer too.
#
#   binds: controllers and processors of personal data (GDPR art. 3), whatever the tenant's category: a
#          transfer without a basis is denied for everyone; relying on a safeguard warns (assessment due).
#   Not a transfer by itself: a parent company abroad that could be compelled (EDPB guidelines 05/2021) —
#   the extraterritorial pack warns about that exposure.
package souverain.gdpr_transfers

import data.souverain.lib
import rego.v1

personal_classes := lib.settings("gdpr_transfers", "personal_classes", ["personal", "special_category", "health"])

personal_data := [c | some c in input.workload.data_classes; c in personal_classes]

binds := "controllers and processors of personal data (GDPR art. 3), whatever the tenant's category"

binds_fr := "les responsables de traitement et sous-traitants de données personnelles (RGPD art. 3), quelle que soit la catégorie du client"

# How the data leaves the EEA, in words (the `channel` of a transfer is a code).
channel_label := {
	"storage": "storage", "backup": "backup", "administration access": "administration access",
	"support access": "support access", "vendor remote access": "vendor remote access",
}

channel_label_fr := {
	"storage": "stockage", "backup": "sauvegarde", "administration access": "accès d'administration",
	"support access": "accès de support", "vendor remote access": "accès à distance du fournisseur",
}

mechanism_label_fr := {"scc": "clauses contractuelles types", "bcr": "règles d'entreprise contraignantes", "derogation": "dérogation"}

mechanism_label := {"scc": "standard contractual clauses", "bcr": "binding corporate rules", "derogation": "a derogation"}

# One row per way the data leaves the EEA: where it is kept, and who reaches it from where. The recipient is
# the organisation that must be DPF-certified when the destination's adequacy is limited to such organisations.
transfers contains {"country": loc.country, "channel": channel, "recipient": recipient} if {
	some loc in input.region.data_locations
	not lib.in_eea(loc.country)
	channel := {"primary": "storage", "backup": "backup"}[loc.role]
	recipient := object.get(loc.operator, "id", input.region.operator.id)
}

transfers contains {"country": country, "channel": "administration access", "recipient": input.region.operator.id} if {
	some country in input.region.admin_staff_countries
	not lib.in_eea(country)
}

transfers contains {"country": country, "channel": "support access", "recipient": input.region.operator.id} if {
	some country in input.region.support_staff_countries
	not lib.in_eea(country)
}

transfers contains {"country": vendor.country, "channel": "vendor remote access", "recipient": vendor.id} if {
	vendor := input.region.vendor
	lib.vendor_has_access
	not lib.in_eea(vendor.country)
}

adequate(transfer) if {
	some decision in input.kb.adequacy
	decision.country == transfer.country
	decision.scope in {"full", "commercial"}
}

# Inference: the EU-US DPF adequacy covers only certified organisations, so it is the recipient that counts.
adequate(transfer) if {
	some decision in input.kb.adequacy
	decision.country == transfer.country
	decision.scope == "dpf_certified_only"
	transfer.recipient in input.kb.dpf_certified
}

safeguards(transfer) := [s | some s in input.workload.safeguards; s.country in {transfer.country, "*"}]

deny contains {
	"rule": "gdpr_transfers.unlawful_transfer",
	"message": sprintf(
		"Region %s: personal data (%s) would go to %s (%s) with no adequacy decision and no declared safeguard.",
		[lib.region, lib.classes(personal_data), transfer.country, lib.label(channel_label, transfer.channel)],
	),
	"message_fr": sprintf(
		"Région %s : des données personnelles (%s) iraient vers %s (%s) sans décision d'adéquation ni garantie déclarée.",
		[lib.region, lib.classes_fr(personal_data), transfer.country, lib.label(channel_label_fr, transfer.channel)],
	),
	"facts": object.union(transfer, {"data_classes": personal_data}),
	"source": "GDPR arts 44-46 (transfers need an adequacy decision or appropriate safeguards)",
	"source_fr": "RGPD art. 44 à 46 (un transfert exige une décision d'adéquation ou des garanties appropriées)",
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	count(personal_data) > 0
	some transfer in transfers
	not adequate(transfer)
	count(safeguards(transfer)) == 0
}

warn contains {
	"rule": "gdpr_transfers.safeguard_relied_on",
	"message": sprintf(
		"Region %s: personal data goes to %s (%s) under %s; a transfer impact assessment is needed.",
		[
			lib.region, transfer.country, lib.label(channel_label, transfer.channel),
			lib.list([lib.label(mechanism_label, m) | some m in mechanisms]),
		],
	),
	"message_fr": sprintf(
		"Région %s : des données personnelles vont vers %s (%s) sous couvert de %s ; une analyse d'impact du transfert est nécessaire.",
		[
			lib.region, transfer.country, lib.label(channel_label_fr, transfer.channel),
			lib.list([lib.label(mechanism_label_fr, m) | some m in mechanisms]),
		],
	),
	"facts": object.union(transfer, {"mechanisms": mechanisms}),
	"source": "GDPR art. 46 (SCCs, BCRs) and art. 49 (derogations); transfer impact assessment",
	"source_fr": "RGPD art. 46 (CCT, BCR) et art. 49 (dérogations) ; analyse d'impact du transfert",
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	count(personal_data) > 0
	some transfer in transfers
	not adequate(transfer)
	mechanisms := sort({s.mechanism | some s in safeguards(transfer)})
	count(mechanisms) > 0
}

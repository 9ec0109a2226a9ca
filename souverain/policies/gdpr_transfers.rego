# GDPR chapter V (arts 44-49): personal data stored, backed up or accessed outside the EEA is a transfer.
# It needs an adequacy decision for the destination (art. 45), or appropriate safeguards such as SCCs or BCRs
# with a transfer impact assessment (art. 46), or a derogation (art. 49). Remote access is a transfer too.
package souverain.gdpr_transfers

import data.souverain.lib
import rego.v1

personal_classes := lib.settings("gdpr_transfers", "personal_classes", ["personal", "special_category", "health"])

personal_data := [c | some c in input.workload.data_classes; c in personal_classes]

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
		[lib.region, lib.list(personal_data), transfer.country, transfer.channel],
	),
	"facts": object.union(transfer, {"data_classes": personal_data}),
	"source": "GDPR arts 44-46 (transfers need an adequacy decision or appropriate safeguards)",
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
		[lib.region, transfer.country, transfer.channel, lib.list(mechanisms)],
	),
	"facts": object.union(transfer, {"mechanisms": mechanisms}),
	"source": "GDPR art. 46 (SCCs, BCRs) and art. 49 (derogations); transfer impact assessment",
} if {
	count(personal_data) > 0
	some transfer in transfers
	not adequate(transfer)
	mechanisms := sort({s.mechanism | some s in safeguards(transfer)})
	count(mechanisms) > 0
}

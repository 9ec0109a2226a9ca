# Exposure to non-EU laws that can compel access to data (US CLOUD Act, FISA 702, China's National
# Intelligence Law...). The region profile lists each exposure with its law, channel (legal control, data
# location, access, supply chain), strength and the explanation chain; this pack decides what is acceptable.
#
# In scope: every non-EU law for sensitive data (French "cloud au centre" doctrine, SecNumCloud 3.2 §19.6),
# and the laws the workload lists in requirements.no_exposure_to, whatever its data.
package souverain.extraterritorial

import data.souverain.lib
import rego.v1

doctrine := "Circular 6282/SG \"cloud au centre\" (2021, updated 2023); SecNumCloud 3.2 §19.6"

sensitive_classes := lib.settings(
	"extraterritorial", "sensitive_classes",
	["diffusion_restreinte", "critical_operator", "special_category", "health"],
)

sensitive := [c | some c in input.workload.data_classes; c in sensitive_classes]

in_scope(exposure) if {
	count(sensitive) > 0
	not lib.in_eu(exposure.country)
}

in_scope(exposure) if exposure.law in input.workload.requirements.no_exposure_to

# With keys the customer holds, kept in the EU, a compelled provider (or the owner of a datacenter) can hand
# over ciphertext only. Access channels are not relieved: whoever administers the service sees clear data.
ciphertext_only if {
	input.workload.requirements.customer_held_keys
	input.region.key_custody.holder != "provider"
	lib.in_eu(input.region.key_custody.country)
}

relieved_channels := {"legal_control", "data_location"}

compelled_channels := {"legal_control", "data_location", "access"}

reason := sprintf("sensitive data (%s)", [lib.list(sensitive)]) if {
	count(sensitive) > 0
} else := "this workload, which excludes this law"

deny contains {
	"rule": "extraterritorial.compelled_exposure",
	"message": sprintf("Region %s is exposed to the %s through %s: %s. Not acceptable for %s.", [
		lib.region, exposure.law_name, exposure.channel, exposure.explanation, reason,
	]),
	"facts": exposure,
	"source": sprintf("%s; %s", [exposure.law_name, doctrine]),
} if {
	some exposure in input.region.exposure
	exposure.strength == "compelled"
	exposure.channel in compelled_channels
	in_scope(exposure)
	not relieved(exposure)
}

relieved(exposure) if {
	exposure.channel in relieved_channels
	ciphertext_only
}

warn contains {
	"rule": "extraterritorial.ciphertext_only",
	"message": sprintf(
		"Region %s is exposed to the %s through %s (%s); with customer-held keys in %s it can yield ciphertext only.",
		[lib.region, exposure.law_name, exposure.channel, exposure.explanation, input.region.key_custody.country],
	),
	"facts": object.union(exposure, {"key_custody": input.region.key_custody}),
	"source": sprintf("%s; %s", [exposure.law_name, doctrine]),
} if {
	some exposure in input.region.exposure
	exposure.strength == "compelled"
	in_scope(exposure)
	relieved(exposure)
}

warn contains {
	"rule": "extraterritorial.supply_chain",
	"message": sprintf("Region %s depends on a supplier under the %s: %s.", [
		lib.region, exposure.law_name, exposure.explanation,
	]),
	"facts": exposure,
	"source": sprintf("%s; supply-chain exposure (informational)", [exposure.law_name]),
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
		lib.region, exposure.law_name, exposure.channel, exposure.explanation,
	]),
	"facts": exposure,
	"source": sprintf("%s; SecNumCloud 3.2 §5.3.d (residual extraterritorial risk)", [exposure.law_name]),
} if {
	some exposure in input.region.exposure
	exposure.strength == "informational"
	exposure.channel in compelled_channels
	in_scope(exposure)
}

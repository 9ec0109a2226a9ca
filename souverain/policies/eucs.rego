# EUCS, the draft EU cybersecurity certification scheme for cloud services. Assurance levels basic <
# substantial < high < high+ (CS-EL4). The scheme is still a draft: the engine compares the level the
# provider claims under a draft version, and says so.
package souverain.eucs

import data.souverain.lib
import rego.v1

source := "EUCS (ENISA draft scheme): assurance levels basic, substantial, high, high+"

# The order of the levels is part of the scheme's definition, not a sovereignty fact that changes.
rank := {"basic": 1, "substantial": 2, "high": 3, "high_plus": 4}

required := input.workload.requirements.eucs_level

claims := [c | some c in lib.valid_certs("eucs"); c.level in object.keys(rank)]

best := c if {
	top := max([rank[c.level] | some c in claims])
	some c in claims
	rank[c.level] == top
}

best_label := sprintf("%s (draft %s)", [best.level, best.version]) if {
	best.level
} else := "none"

deny contains {
	"rule": "eucs.level_insufficient",
	"message": sprintf("Region %s: the workload needs EUCS %s; the highest valid claimed level is %s.", [
		lib.region, required, best_label,
	]),
	"facts": {"required": required, "claimed": claims},
	"source": source,
} if {
	required != null
	not meets_required
}

meets_required if rank[best.level] >= rank[required]

warn contains {
	"rule": "eucs.draft_scheme",
	"message": sprintf("Region %s: EUCS is still a draft scheme; level %s is as claimed by the provider.", [
		lib.region, best_label,
	]),
	"facts": {"required": required, "claimed": claims},
	"source": source,
} if {
	required != null
}

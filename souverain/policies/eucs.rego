# EUCS, the draft EU cybersecurity certification scheme for cloud services. Assurance levels basic <
# substantial < high < high+ (CS-EL4). The scheme is still a draft: the engine compares the level the
# provider claims under a draft version, and says so.
#
#   binds: no text requires EUCS yet (a draft binds no one); the tenant binds itself by requiring a level
#          (requirements.eucs_level), so a level below its requirement is denied; the draft status warns.
package souverain.eucs

import data.souverain.lib
import rego.v1

source := "EUCS (ENISA draft scheme): assurance levels basic, substantial, high, high+; the workload's requirement eucs_level"

source_fr := "EUCS (projet de schéma de l'ENISA) : niveaux d'assurance élémentaire, substantiel, élevé, élevé+ ; l'exigence eucs_level de la charge de travail"

binds := "this tenant, which requires the level for this workload (EUCS is still a draft and binds no one by itself)"

binds_fr := "ce client, qui exige ce niveau pour cette charge de travail (EUCS, encore en projet, n'oblige personne par lui-même)"

level_label := {"basic": "basic", "substantial": "substantial", "high": "high", "high_plus": "high+"}

level_label_fr := {"basic": "élémentaire", "substantial": "substantiel", "high": "élevé", "high_plus": "élevé+"}

# The order of the levels is part of the scheme's definition, not a sovereignty fact that changes.
rank := {"basic": 1, "substantial": 2, "high": 3, "high_plus": 4}

required := input.workload.requirements.eucs_level

claims := [c | some c in lib.valid_certs("eucs"); c.level in object.keys(rank)]

best := c if {
	top := max([rank[c.level] | some c in claims])
	some c in claims
	rank[c.level] == top
}

best_label := sprintf("%s (draft %s)", [lib.label(level_label, best.level), best.version]) if {
	best.level
} else := "none"

best_label_fr := sprintf("%s (projet %s)", [lib.label(level_label_fr, best.level), best.version]) if {
	best.level
} else := "aucun"

deny contains {
	"rule": "eucs.level_insufficient",
	"message": sprintf("Region %s: the workload needs EUCS %s; the highest valid claimed level is %s.", [
		lib.region, lib.label(level_label, required), best_label,
	]),
	"message_fr": sprintf(
		"Région %s : la charge de travail exige EUCS %s ; le plus haut niveau revendiqué et valide est %s.",
		[lib.region, lib.label(level_label_fr, required), best_label_fr],
	),
	"facts": {"required": required, "claimed": claims},
	"source": source,
	"source_fr": source_fr,
	"binds": binds,
	"binds_fr": binds_fr,
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
	"message_fr": sprintf("Région %s : EUCS est encore un projet de schéma ; le niveau %s est celui que revendique le fournisseur.", [
		lib.region, best_label_fr,
	]),
	"facts": {"required": required, "claimed": claims},
	"source": source,
	"source_fr": source_fr,
	"binds": binds,
	"binds_fr": binds_fr,
} if {
	required != null
}

# Requirements a tenant sets on a workload, whatever the regulations: EU only, a list of allowed countries,
# customer-held keys. (requirements.no_exposure_to is judged by the extraterritorial pack, which packs.yaml
# turns on whenever that list is not empty: one rule for one question.)
package souverain.requirements

import data.souverain.lib
import rego.v1

wanted := input.workload.requirements

# Where the data is (primary and backup) and where it can be reached from by the provider's staff.
places contains {"country": c, "what": "data"} if {
	some c in input.region.data_countries
}

places contains {"country": c, "what": "administration staff"} if {
	some c in input.region.admin_staff_countries
}

places contains {"country": c, "what": "support staff"} if {
	some c in input.region.support_staff_countries
}

deny contains {
	"rule": "requirements.eu_only",
	"message": sprintf(
		"Region %s has %s in %s; the workload must stay in the EU.",
		[lib.region, place.what, place.country],
	),
	"facts": place,
	"source": "Tenant requirement eu_only",
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
	"facts": object.union(place, {"allowed_countries": wanted.allowed_countries}),
	"source": "Tenant requirement allowed_countries",
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
	"facts": input.region.key_custody,
	"source": "Tenant requirement customer_held_keys",
} if {
	wanted.customer_held_keys
	input.region.key_custody.holder == "provider"
}

# Keys the customer holds are only as safe as the place they are kept: say so when that place is not declared.
warn contains {
	"rule": "requirements.key_location_unknown",
	"message": sprintf("Region %s: keys are held by the %s but where they are kept is not declared.", [
		lib.region, input.region.key_custody.holder,
	]),
	"facts": input.region.key_custody,
	"source": "Tenant requirement customer_held_keys",
} if {
	wanted.customer_held_keys
	input.region.key_custody.holder != "provider"
	input.region.key_custody.country == null
}

# SecNumCloud 3.2 (ANSSI qualification, March 2022): protection from non-EU law and EU-only operations.
# Applies to sensitive state data ("cloud au centre" doctrine) and to workloads that require it (packs.yaml).
package souverain.secnumcloud

import data.souverain.lib
import rego.v1

seat := "SecNumCloud 3.2 §19.6 (registered office, central administration and principal establishment in the EU)"

control := "SecNumCloud 3.2 §19.6 (no non-EU entity controls the provider)"

ownership_source := "SecNumCloud 3.2 §19.6 (non-EU holdings: ≤ 24 % alone, ≤ 39 % together)"

localisation := "SecNumCloud 3.2 §19.6 (data stored and processed in the EU)"

administration := "SecNumCloud 3.2 §19.6 (privileged administration initiated and performed from the EU)"

support := "SecNumCloud 3.2 §19.6 (support staff in the EU)"

keys := "SecNumCloud 3.2 §19.6 (keys held in the EU)"

qualification := "SecNumCloud 3.2 (ANSSI qualification and its validity dates)"

operator := input.region.operator

deny contains {
	"rule": "secnumcloud.operator_seat",
	"message": sprintf(
		"Region %s is operated by %s, whose seat is in %s, outside the EU.",
		[lib.region, operator.name, operator.country],
	),
	"facts": {"operator": operator.name, "country": operator.country},
	"source": seat,
} if {
	not lib.in_eu(operator.country)
}

# The operator itself is judged by operator_seat; here every parent or shareholder up the chain.
deny contains {
	"rule": "secnumcloud.chain_control",
	"message": sprintf("Region %s: %s (%s, %s of the operator %s) is outside the EU.", [
		lib.region, entity.name, entity.country, entity.relation, operator.name,
	]),
	"facts": {"entity": entity.name, "country": entity.country, "relation": entity.relation},
	"source": control,
} if {
	some entity in operator.chain
	entity.relation != "operator"
	not lib.in_eu(entity.country)
}

ownership := input.region.ownership

# Both capital and voting rights count: the larger of the two is compared with the threshold.
deny contains {
	"rule": "secnumcloud.ownership_single",
	"message": sprintf(
		"Region %s: %s (%s) holds %v %% of capital and %v %% of voting rights in %s; one non-EU holder may have %v %%.",
		[
			lib.region, holder.entity, holder.country, holder.capital, holder.voting, operator.name,
			ownership.thresholds.single,
		],
	),
	"facts": {"holder": holder, "threshold": ownership.thresholds.single},
	"source": ownership_source,
} if {
	holder := ownership.non_eu_single_max
	holder != null
	max([holder.capital, holder.voting]) > ownership.thresholds.single
}

deny contains {
	"rule": "secnumcloud.ownership_total",
	"message": sprintf(
		"Region %s: non-EU entities together hold %v %% of capital and %v %% of voting rights in %s; the limit is %v %%.",
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
} if {
	max([ownership.non_eu_total_capital, ownership.non_eu_total_voting]) > ownership.thresholds.total
}

deny contains {
	"rule": "secnumcloud.data_location",
	"message": sprintf("Region %s keeps %s data in %s (%s), outside the EU.", [
		lib.region, loc.role, loc.country, loc.datacenter,
	]),
	"facts": {"datacenter": loc.datacenter, "country": loc.country, "role": loc.role},
	"source": localisation,
} if {
	some loc in input.region.data_locations
	not lib.in_eu(loc.country)
}

deny contains {
	"rule": "secnumcloud.admin_staff",
	"message": sprintf("Region %s is administered from %s, outside the EU.", [lib.region, country]),
	"facts": {"country": country},
	"source": administration,
} if {
	some country in input.region.admin_staff_countries
	not lib.in_eu(country)
}

deny contains {
	"rule": "secnumcloud.support_staff",
	"message": sprintf("Region %s has support staff in %s, outside the EU.", [lib.region, country]),
	"facts": {"country": country},
	"source": support,
} if {
	some country in input.region.support_staff_countries
	not lib.in_eu(country)
}

deny contains {
	"rule": "secnumcloud.vendor_access",
	"message": sprintf("Region %s: stack vendor %s (%s) has %s access from outside the EU.", [
		lib.region, vendor.name, vendor.country, vendor.access,
	]),
	"facts": {"vendor": vendor.name, "country": vendor.country, "access": vendor.access},
	"source": administration,
} if {
	vendor := input.region.vendor
	lib.vendor_has_access
	not lib.in_eu(vendor.country)
}

custody := input.region.key_custody

deny contains {
	"rule": "secnumcloud.key_custody",
	"message": sprintf("Region %s: encryption keys are held by the %s in %s, outside the EU.", [
		lib.region, custody.holder, custody.country,
	]),
	"facts": {"holder": custody.holder, "country": custody.country},
	"source": keys,
} if {
	custody.country != null
	not lib.in_eu(custody.country)
}

# A provider that cannot say where it keeps the keys it holds does not meet the requirement.
deny contains {
	"rule": "secnumcloud.key_custody",
	"message": sprintf("Region %s: encryption keys are held by the %s in an undeclared country.", [
		lib.region, custody.holder,
	]),
	"facts": {"holder": custody.holder, "country": null},
	"source": keys,
} if {
	custody.country == null
	custody.holder != "customer"
}

deny contains {
	"rule": "secnumcloud.qualification",
	"message": sprintf("Region %s has no SecNumCloud qualification valid on %s.", [lib.region, input.date]),
	"facts": {
		"date": input.date,
		"certifications": [c | some c in input.region.certifications; c.scheme == "secnumcloud"],
	},
	"source": qualification,
} if {
	count(lib.valid_certs("secnumcloud")) == 0
}

warn contains {
	"rule": "secnumcloud.qualification_expiring",
	"message": sprintf("Region %s: the SecNumCloud qualification (%s) expires on %s, in %v days.", [
		lib.region, cert.scope, cert.valid_until, cert.days_to_expiry,
	]),
	"facts": {"valid_until": cert.valid_until, "days_to_expiry": cert.days_to_expiry, "scope": cert.scope},
	"source": qualification,
} if {
	some cert in lib.valid_certs("secnumcloud")
	cert.days_to_expiry != null
	cert.days_to_expiry <= lib.settings("secnumcloud", "expiry_warning_days", 90)
}

# Helpers shared by the built-in packs. Not a pack: it has no deny/warn and never applies by itself.
#
# Every sovereignty fact (EU and EEA membership, adequacy decisions, DPF certification) is read from
# input.kb, which the knowledge base fills with dated, sourced data; nothing here hard-codes a country.
package souverain.lib

import rego.v1

in_eu(country) if country in input.kb.eu_countries

# The EEA is the EU plus Iceland, Liechtenstein and Norway; accept either list so that a knowledge base
# which lists only the three extra states in eea_countries still counts EU members as EEA.
in_eea(country) if country in input.kb.eea_countries

in_eea(country) if in_eu(country)

region := input.region.id

# Access levels through which a vendor can reach customer data or systems (software_supply cannot).
vendor_access_levels := {"remote_support", "operations"}

vendor_has_access if input.region.vendor.access in vendor_access_levels

# Everyone who can reach the data from somewhere, with the channel, for the staff and vendor rules.
accessors contains {"country": c, "who": "administration staff", "who_fr": "le personnel d'administration"} if {
	some c in input.region.admin_staff_countries
}

accessors contains {"country": c, "who": "support staff", "who_fr": "le personnel de support"} if {
	some c in input.region.support_staff_countries
}

accessors contains {
	"country": v.country,
	"who": sprintf("vendor %s (%s)", [v.name, label(access_label, v.access)]),
	"who_fr": sprintf("le fournisseur %s (%s)", [v.name, label(access_label_fr, v.access)]),
} if {
	v := input.region.vendor
	vendor_has_access
}

valid_certs(scheme) := [c | some c in input.region.certifications; c.scheme == scheme; c.valid]

# Comma-separated list for messages. The substring() is a no-op in OPA; it is here because regopy 1.5.2's
# sprintf("%s") wraps a string returned by concat() in quotes, and a substring() result is printed plainly.
list(xs) := substring(concat(", ", xs), 0, -1)

settings(pack, key, fallback) := object.get(data.settings, [pack, key], fallback)

# --- who is bound ------------------------------------------------------------------------------------------
#
# A rule denies only on an obligation that binds this tenant; otherwise it warns (a recommendation, or an
# obligation of other kinds of organisations). The tenant's legal category comes with the workload
# (souverain/tenancy/categories.py); a workload without one is a private company's, the least-bound category.

category := c if {
	c := input.workload.tenant_category
	c != null
} else := "private"

# The obligation (packs.yaml settings: tenant_categories and data_classes) binds this tenant for this data.
bound_by(obligation) if {
	category in obligation.tenant_categories
	some c in input.workload.data_classes
	c in obligation.data_classes
}

# --- words for the input's codes, in English and French (a message never shows a raw code) -----------------

label(labels, code) := object.get(labels, code, code)

category_label := {
	"state_administration": "a State administration", "public_body": "a public body",
	"critical_operator": "a critical operator (OIV/OSE)", "regulated_health": "a regulated health organisation",
	"regulated_finance": "a regulated financial organisation", "private": "a private company",
}

category_label_fr := {
	"state_administration": "une administration de l'État", "public_body": "un organisme public",
	"critical_operator": "un opérateur critique (OIV/OSE)", "regulated_health": "un organisme de santé réglementé",
	"regulated_finance": "un organisme financier réglementé", "private": "une entreprise privée",
}

class_label := {
	"public": "public", "internal": "internal", "personal": "personal data (GDPR)",
	"special_category": "special categories of personal data (GDPR art. 9)", "health": "health data",
	"diffusion_restreinte": "Diffusion Restreinte", "critical_operator": "critical operator data (OIV/OSE)",
}

class_label_fr := {
	"public": "public", "internal": "interne", "personal": "données personnelles (RGPD)",
	"special_category": "catégories particulières de données personnelles (RGPD art. 9)",
	"health": "données de santé", "diffusion_restreinte": "Diffusion Restreinte",
	"critical_operator": "données d'opérateur critique (OIV/OSE)",
}

classes(codes) := list([label(class_label, c) | some c in codes])

classes_fr(codes) := list([label(class_label_fr, c) | some c in codes])

channel_label := {
	"legal_control": "legal control (the operator's ownership chain)", "data_location": "the location of the data",
	"access": "access by staff or a vendor", "supply_chain": "the supply chain",
}

channel_label_fr := {
	"legal_control": "le contrôle juridique (la chaîne de contrôle de l'opérateur)",
	"data_location": "la localisation des données", "access": "l'accès du personnel ou d'un fournisseur",
	"supply_chain": "la chaîne d'approvisionnement",
}

role_label := {"primary": "primary", "backup": "backup"}

role_label_fr := {"primary": "principales", "backup": "de sauvegarde"}

access_label := {
	"none": "no", "software_supply": "software supply", "remote_support": "remote support",
	"operations": "operations",
}

access_label_fr := {
	"none": "aucun", "software_supply": "fourniture logicielle", "remote_support": "support à distance",
	"operations": "exploitation",
}

holder_label := {"provider": "the provider", "customer": "the customer", "external_hsm": "an external HSM"}

holder_label_fr := {"provider": "le fournisseur", "customer": "le client", "external_hsm": "un HSM externe"}

relation_label := {
	"operator": "operator", "parent": "parent company", "controlling shareholder": "controlling shareholder",
}

relation_label_fr := {
	"operator": "opérateur", "parent": "société mère", "controlling shareholder": "actionnaire de contrôle",
}

# Exposure entries may carry French wording (law_name_fr, explanation_fr); the English is the fallback.
law_name_fr(exposure) := object.get(exposure, "law_name_fr", exposure.law_name)

explanation_fr(exposure) := object.get(exposure, "explanation_fr", exposure.explanation)

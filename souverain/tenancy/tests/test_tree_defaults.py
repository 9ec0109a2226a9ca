"""Defaults in the organisation tree: inherited downwards, only ever made stricter, read by placement/compliance."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from souverain.policy.services import tenant_layer
from souverain.policy.workloads import merge
from souverain.tenancy.models import Tenant


@pytest.fixture
def ministry(db):
    root = Tenant.objects.create(slug="min", name="Ministry", category="state_administration",
                                 default_data_classes=["personal"],
                                 default_requirements={"eu_only": True, "allowed_countries": ["FR", "DE"],
                                                       "eucs_level": "substantial"})
    return root


def child(parent, **fields):
    node = Tenant(slug=fields.pop("slug", "dir"), name="Directorate", parent=parent,
                  category=fields.pop("category", parent.category), **fields)
    node.full_clean()
    node.save()
    return node


def test_a_child_inherits_its_ancestors_defaults(ministry):
    directorate = child(ministry, default_data_classes=["health"], default_requirements={"secnumcloud": True})
    project = child(directorate, slug="proj", default_requirements={"allowed_countries": ["FR"],
                                                                    "eucs_level": "high"})
    workload = merge([tenant_layer(project)])
    assert workload["data_classes"] == ["health", "personal"]
    assert workload["requirements"]["eu_only"] and workload["requirements"]["secnumcloud"]
    assert workload["requirements"]["allowed_countries"] == ["FR"]
    assert workload["requirements"]["eucs_level"] == "high"
    assert workload["tenant_category"] == "state_administration"
    # The root's own layer is unchanged by its children.
    assert merge([tenant_layer(ministry)])["requirements"]["secnumcloud"] is False


@pytest.mark.parametrize(("requirements", "key"), [
    ({"eu_only": False}, "eu_only"),
    ({"allowed_countries": ["FR", "US"]}, "allowed_countries"),
    ({"eucs_level": "basic"}, "eucs_level"),
])
def test_a_child_cannot_loosen_a_default(ministry, requirements, key):
    with pytest.raises(ValidationError) as error:
        child(ministry, default_requirements=requirements)
    message = " ".join(error.value.message_dict["default_requirements"])
    assert f"default_requirements.{key}" in message and "ancestor “min”" in message
    assert not Tenant.objects.filter(slug="dir").exists()


def test_a_grandchild_cannot_loosen_what_the_root_requires(ministry):
    directorate = child(ministry)
    with pytest.raises(ValidationError, match="ancestor “min”"):
        child(directorate, slug="proj", default_requirements={"allowed_countries": ["US"]})


def test_the_legal_category_is_inherited_unless_the_ancestors_are_private(ministry):
    with pytest.raises(ValidationError) as error:
        child(ministry, category="private")
    assert "category" in error.value.message_dict
    reseller = Tenant.objects.create(slug="reseller", name="Reseller")  # private
    hospital = child(reseller, slug="hospital", category="regulated_health")
    assert merge([tenant_layer(hospital)])["tenant_category"] == "regulated_health"

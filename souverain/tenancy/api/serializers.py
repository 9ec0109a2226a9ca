from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from souverain.core.api import RejectUnknownFieldsMixin
from souverain.core.roles import TENANT_ROLES, Role

from .. import services
from ..models import Membership, Tenant
from ..permissions import membership_of, scope_queryset


def _visible_tenants(serializer: serializers.Serializer) -> Any:
    """The tenants the requesting user may name (a parent, a membership's tenant): their subtree, or all."""
    from .views import TenantViewSet

    request = serializer.context.get("request")
    if request is None:
        return Tenant.objects.all()
    return scope_queryset(Tenant.objects.all(), request.user, TenantViewSet.access)


def _as_drf(error: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)


class TenantSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), allow_null=True,
                                          required=False)
    depth = serializers.IntegerField(read_only=True)

    class Meta:
        model = Tenant
        fields = ["id", "slug", "name", "description", "category", "parent", "depth", "default_data_classes",
                  "default_requirements", "safeguards"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["parent"].queryset = _visible_tenants(self)  # a parent outside one's subtree "does not exist"
        return fields

    def validate_slug(self, value: str) -> str:
        if value == "tree":  # /api/tenants/tree/ is the tree itself
            raise serializers.ValidationError(_("“tree” is reserved."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The tree's rules (depth, cycles) and the defaults' (only stricter than the ancestors'), on the tenant
        as it would be saved: a 400 naming ``parent``, ``category`` or ``default_requirements``."""
        if self.instance is None and "category" not in attrs and attrs.get("parent") is not None:
            attrs["category"] = attrs["parent"].category  # a child keeps its parent's legal category by default
        candidate = Tenant(pk=self.instance.pk, path=self.instance.path) if self.instance else Tenant()
        if self.instance is not None:
            for field in Tenant._meta.concrete_fields:
                if not field.primary_key:
                    setattr(candidate, field.attname, getattr(self.instance, field.attname))
        for key, value in attrs.items():
            setattr(candidate, key, value)
        try:
            candidate.check_tree()
            services.check_defaults(candidate)
        except DjangoValidationError as error:
            raise _as_drf(error) from None
        return attrs


class TenantMoveSerializer(serializers.Serializer):
    parent = serializers.SlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), allow_null=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["parent"].queryset = _visible_tenants(self)
        return fields


class TenantTreeSerializer(serializers.Serializer):
    """One node of ``GET /api/tenants/tree/``, with its children nested."""

    slug = serializers.CharField()
    name = serializers.CharField()
    depth = serializers.IntegerField()
    members = serializers.IntegerField()
    children = serializers.ListField(child=serializers.DictField())


class OwnMembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    tenant = serializers.CharField(allow_null=True)
    active = serializers.BooleanField()


class MeSerializer(serializers.Serializer):
    """Who the caller is and the membership the request acted with (``role``, ``tenant``), with every
    membership they hold (the ``X-Souverain-Tenant`` header or the portal's switcher chooses among them)."""

    username = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    tenant = serializers.CharField(allow_null=True)
    memberships = OwnMembershipSerializer(many=True)


class MembershipSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """One of a user's roles, at a tenant for tenant roles. A user holds one membership per tenant (and at most
    one without a tenant); adding one for an existing username gives that user a role at one more node. Creating
    one for a username that does not exist yet creates the user (with ``password``, checked by the password
    rules, or none: they cannot log in until an operator sets one): operators and tenant admins onboard members
    from the API, no Python shell."""

    username = serializers.CharField(max_length=150, source="user.username")
    # Operators and unbound auditors have no tenant.
    tenant = serializers.SlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), allow_null=True,
                                          required=False)
    email = serializers.EmailField(write_only=True, required=False, allow_blank=True)
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "tenant", "email", "password"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["tenant"].queryset = _visible_tenants(self)
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        request = self.context.get("request")
        actor = membership_of(request.user) if request is not None else None
        role = attrs.get("role", self.instance.role if self.instance else None)
        tenant = attrs.get("tenant", self.instance.tenant if self.instance else None)
        if actor is not None and actor.role == Role.TENANT_ADMIN:
            # Delegated administration: a tenant admin grants tenant roles (or a bound auditor) in their subtree.
            if role not in (*TENANT_ROLES, Role.AUDITOR):
                raise serializers.ValidationError({"role": [_("A tenant admin can only grant tenant roles.")]})
            if tenant is None:
                raise serializers.ValidationError({"tenant": [_("This field is required.")]})
            if self.instance is not None and self.instance.user_id == request.user.pk:
                raise serializers.ValidationError({"role": [_("You cannot change your own role.")]})
        username = attrs.get("user", {}).get("username")
        user = self.instance.user if self.instance is not None \
            else get_user_model().objects.filter(username=username).first()
        if user is not None:
            # Several memberships per user, one per tenant, and at most one without a tenant (models.py).
            others = Membership.objects.filter(user=user).exclude(pk=self.instance.pk if self.instance else None)
            if tenant is not None and others.filter(tenant=tenant).exists():
                raise serializers.ValidationError({"username": [
                    _("This user already has a membership at tenant “%(tenant)s”.") % {"tenant": tenant.slug}]})
            if tenant is None and others.filter(tenant__isnull=True).exists():
                raise serializers.ValidationError({"username": [
                    _("This user already has a membership without a tenant (operator or auditor).")]})
        if self.instance is None:
            if user is None and attrs.get("password"):
                try:
                    validate_password(attrs["password"], get_user_model()(username=username))
                except DjangoValidationError as error:
                    raise serializers.ValidationError({"password": error.messages}) from None
        elif username is not None and username != self.instance.user.get_username():
            raise serializers.ValidationError({"username": [_("A membership's user cannot be changed.")]})
        candidate = Membership(role=role, tenant=tenant)
        try:
            candidate.clean()
        except DjangoValidationError as error:
            raise _as_drf(error) from None
        return attrs

    def create(self, validated: dict[str, Any]) -> Membership:
        users = get_user_model().objects
        username = validated["user"]["username"]
        user = users.filter(username=username).first()
        if user is None:
            user = users.create_user(username=username, email=validated.get("email") or "",
                                     password=validated.get("password") or None)
        return Membership.objects.create(user=user, role=validated["role"], tenant=validated.get("tenant"))

    def update(self, instance: Membership, validated: dict[str, Any]) -> Membership:
        for key in ("role", "tenant"):
            if key in validated:
                setattr(instance, key, validated[key])
        instance.save()
        return instance

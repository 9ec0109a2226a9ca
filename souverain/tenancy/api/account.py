"""The API of accounts and history: one's API tokens (``/api/tokens/``) and the change history (``/api/changes/``).

Tokens. Everyone lists and revokes their own tokens and issues new ones (the secret is in the creation's answer
only); operator admins list and revoke everyone's (``?user=``). No answer ever carries a secret but the issue's.

Changes. The before/after history of every change-logged object (``core.models.ObjectChange``), filtered by object
type (``app_label.model``) and id, actor, source, action, time range and request id (the server's or the client's);
``?format=csv`` streams every matching row. Operators and auditors read all of it; a tenant's users (and an auditor
bound to a tenant) read the history of their tenant's objects only (``ObjectChange.tenant_id``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import django_filters
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from souverain.core import tokens
from souverain.core.api import RejectUnknownFieldsMixin
from souverain.core.api.csv_export import CSVRenderer, csv_response
from souverain.core.models import ApiToken, ObjectChange
from souverain.core.roles import ALL_ROLES, Role

from ..permissions import Access, TenantScopedQuerysetMixin, role_of

OWN_TOKENS = Access(read=ALL_ROLES, write=ALL_ROLES)
CHANGE_HISTORY = Access(read=ALL_ROLES, tenant_lookup="tenant_id")


def tokens_visible_to(user: Any) -> QuerySet:
    queryset = ApiToken.objects.select_related("user")
    return queryset if role_of(user) == Role.OPERATOR_ADMIN else queryset.filter(user=user)


class ApiTokenSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "user", "name", "prefix", "scope", "status", "created", "created_by", "expires", "last_used",
                  "revoked", "revoked_by"]
        read_only_fields = fields


class ApiTokenCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices, default=ApiToken.Scope.WRITE)
    expires_in_days = serializers.IntegerField(required=False, min_value=1, max_value=3650,
                                               help_text="Default SOUVERAIN_TOKEN_DAYS; at most "
                                                         "SOUVERAIN_TOKEN_MAX_DAYS.")


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret: shown this once, never again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenFilterSet(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="user__username")
    scope = django_filters.ChoiceFilter(choices=ApiToken.Scope.choices)

    class Meta:
        model = ApiToken
        fields = ["user", "scope"]


class ApiTokenViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
                      viewsets.GenericViewSet):
    """Your API tokens (operator admins: everyone's). POST issues one (its secret in the answer, once); DELETE
    revokes one."""

    access = OWN_TOKENS
    queryset = ApiToken.objects.all()
    serializer_class = ApiTokenSerializer
    filterset_class = ApiTokenFilterSet
    search_fields: list[str] = []
    ordering_fields = ["created", "expires", "last_used"]

    def get_queryset(self) -> QuerySet:
        return tokens_visible_to(self.request.user)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: IssuedTokenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = ApiTokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            token, secret = tokens.issue(request.user, name=form.validated_data["name"],
                                         scope=form.validated_data["scope"],
                                         days=form.validated_data.get("expires_in_days"))
        except tokens.TokenError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        token.token = secret
        return Response(IssuedTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        tokens.revoke(instance, actor=self.request.user.get_username())


class ObjectChangeSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()
    changed_fields = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ObjectChange
        fields = ["id", "time", "username", "source", "request_id", "client_request_id", "action", "object_type",
                  "object_id", "object_repr", "changed_fields", "before", "after"]
        read_only_fields = fields

    def get_object_type(self, change: ObjectChange) -> str:
        return f"{change.content_type.app_label}.{change.content_type.model}"


class ObjectChangeFilterSet(django_filters.FilterSet):
    object_type = django_filters.CharFilter(method="filter_object_type", help_text="app_label.model, e.g. estate.cloud")
    object_id = django_filters.CharFilter()
    actor = django_filters.CharFilter(field_name="username")
    source = django_filters.CharFilter()
    action = django_filters.ChoiceFilter(choices=ObjectChange.Action.choices)
    request_id = django_filters.CharFilter(method="filter_request_id",
                                           help_text="the server's request id or the client's X-Request-Id")
    since = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lt")

    class Meta:
        model = ObjectChange
        fields = ["object_type", "object_id", "actor", "source", "action", "request_id", "since", "until"]

    def filter_object_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        app_label, _, model = value.lower().partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

    def filter_request_id(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        from django.db.models import Q

        return queryset.filter(Q(request_id=value) | Q(client_request_id=value))


CSV_COLUMNS = ["id", "time", "username", "source", "request_id", "client_request_id", "action", "object_type",
               "object_id", "object_repr", "changed_fields", "before", "after"]


def change_rows(queryset: QuerySet) -> Iterator[list[Any]]:
    """The CSV export's rows, one change each (memory flat): before/after as JSON text."""
    for change in queryset.select_related("content_type").iterator(chunk_size=2000):
        yield [
            change.pk, change.time.isoformat(), change.username, change.source, change.request_id,
            change.client_request_id, change.action, f"{change.content_type.app_label}.{change.content_type.model}",
            change.object_id, change.object_repr, ";".join(change.changed_fields),
            json.dumps(change.before, cls=DjangoJSONEncoder, sort_keys=True) if change.before is not None else "",
            json.dumps(change.after, cls=DjangoJSONEncoder, sort_keys=True) if change.after is not None else "",
        ]


class ObjectChangeViewSet(TenantScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """The change history, newest first. ``?format=csv`` exports every matching row."""

    access = CHANGE_HISTORY
    queryset = ObjectChange.objects.select_related("content_type")
    serializer_class = ObjectChangeSerializer
    filterset_class = ObjectChangeFilterSet
    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]
    search_fields = ["object_repr"]
    ordering_fields = ["time", "id"]
    ordering = ["-time", "-id"]

    @extend_schema(parameters=[
        OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: every matching row"),
    ])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if getattr(request.accepted_renderer, "format", None) == "csv":
            return csv_response(CSV_COLUMNS, change_rows(self.filter_queryset(self.get_queryset())),
                                "changes.csv")
        return super().list(request, *args, **kwargs)

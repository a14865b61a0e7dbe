"""How subscribers, their tariffs, equipment and access restrictions look in the API."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from beskontakt.subscribers.models import (
    AccessRestriction,
    Address,
    ContactPoint,
    Equipment,
    Subscriber,
    Subscription,
    Tariff,
)


class AddressSerializer(serializers.ModelSerializer[Address]):
    """A service address down to the apartment."""

    district = serializers.CharField(source="district.name", read_only=True)
    text = serializers.SerializerMethodField()

    class Meta:
        model = Address
        fields = ["district", "street", "building", "entrance", "floor", "apartment", "text"]

    def get_text(self, obj: Address) -> str:
        return str(obj)


class ContactSerializer(serializers.ModelSerializer[ContactPoint]):
    """A phone, e-mail or Telegram contact with the consent flag."""

    class Meta:
        model = ContactPoint
        fields = ["id", "channel", "value", "consent", "preferred"]


class TariffSerializer(serializers.ModelSerializer[Tariff]):
    """A catalogue item (plan, TV package, add-on, bundle)."""

    includes: serializers.SlugRelatedField[Tariff] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Tariff
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "download_mbps",
            "upload_mbps",
            "tv_channels",
            "includes",
            "monthly_price",
            "active",
        ]


class SubscriptionSerializer(serializers.ModelSerializer[Subscription]):
    """A tariff the subscriber has (or had)."""

    tariff = TariffSerializer(read_only=True)

    class Meta:
        model = Subscription
        fields = ["id", "tariff", "status", "started_on", "ended_on"]


class EquipmentSerializer(serializers.ModelSerializer[Equipment]):
    """A device at the subscriber's home."""

    class Meta:
        model = Equipment
        fields = ["id", "kind", "vendor", "model", "serial_number", "mac_address", "installed_on"]


class RestrictionSerializer(serializers.ModelSerializer[AccessRestriction]):
    """An access restriction (quarantine, no entry, contactless only...)."""

    active = serializers.SerializerMethodField()

    class Meta:
        model = AccessRestriction
        fields = [
            "id",
            "kind",
            "valid_from",
            "valid_until",
            "reason",
            "recorded_by",
            "recorded_at",
            "lifted_at",
            "lifted_by",
            "active",
        ]
        read_only_fields = fields

    def get_active(self, obj: AccessRestriction) -> bool:
        return obj.is_active_at(timezone.now())


class RestrictionCreateSerializer(serializers.Serializer[Any]):
    """What to send to record a restriction; the action checks dates and the reason."""

    kind = serializers.ChoiceField(choices=AccessRestriction.Kind.choices)
    reason = serializers.CharField(max_length=2000)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(required=False, allow_null=True)


class SubscriberListSerializer(serializers.ModelSerializer[Subscriber]):
    """A subscriber in a list: who, where, how they pay."""

    display_name = serializers.CharField(read_only=True)
    address = AddressSerializer(read_only=True)

    class Meta:
        model = Subscriber
        fields = [
            "id",
            "contract_number",
            "kind",
            "display_name",
            "last_name",
            "first_name",
            "middle_name",
            "company_name",
            "address",
            "segment",
            "billing_status",
            "balance",
            "preferred_language",
            "preferred_channel",
            "created_at",
        ]


class SubscriberDetailSerializer(SubscriberListSerializer):
    """The subscriber 360: contacts, tariffs, equipment and active access restrictions."""

    contacts = ContactSerializer(many=True, read_only=True)
    subscriptions = SubscriptionSerializer(many=True, read_only=True)
    equipment = EquipmentSerializer(many=True, read_only=True)
    active_restrictions = serializers.SerializerMethodField()

    class Meta(SubscriberListSerializer.Meta):
        fields = [
            *SubscriberListSerializer.Meta.fields,
            "contacts",
            "subscriptions",
            "equipment",
            "active_restrictions",
        ]

    @extend_schema_field(RestrictionSerializer(many=True))
    def get_active_restrictions(self, obj: Subscriber) -> list[dict[str, Any]]:
        return RestrictionSerializer(obj.active_restrictions(), many=True).data  # type: ignore[return-value]

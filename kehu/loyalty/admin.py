"""Back-office screens for the loyalty programme. The ledger is read-only here: points move
only through the services (kehu/loyalty/points/services.py), which keep balances and
entries together."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kehu.loyalty.models import (
    ApprovalRequest,
    LoyaltySettings,
    Membership,
    PointsEntry,
    Redemption,
    RedemptionItem,
    StaffLimit,
    Tier,
    TierChange,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LoyaltySettings)
class LoyaltySettingsAdmin(ReadOnlyAdmin):
    list_display = ("points_per_yuan", "points_expire_months", "points_per_yuan_offset")


@admin.register(StaffLimit)
class StaffLimitAdmin(ReadOnlyAdmin):
    """Read-only: the limits are changed on the programme settings page (administrators)."""

    list_display = (
        "role",
        "points_per_adjustment",
        "points_per_day",
        "offset_without_order",
        "coupon_face_value",
    )


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    """Read-only: requests are decided on the approvals page, which writes the ledger entry."""

    list_display = ("requested_at", "membership", "points", "status", "requested_by", "decided_by")
    list_filter = ("status",)
    search_fields = ("membership__card_number", "reason")
    list_select_related = ("membership", "requested_by", "decided_by")


@admin.register(Tier)
class TierAdmin(ReadOnlyAdmin):
    list_display = ("rank", "name", "threshold", "points_multiplier", "birthday_gift_points")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("card_number", "customer", "tier", "points_balance", "status", "enrolled_on")
    list_filter = ("tier", "status", "channel")
    search_fields = ("card_number", "customer__name", "customer__mobile")
    list_select_related = ("customer", "tier")


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "membership", "kind", "points", "remaining", "source", "reason")
    list_filter = ("kind", "source")
    search_fields = ("membership__card_number", "idempotency_key")
    list_select_related = ("membership",)


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "membership", "previous_tier", "tier", "reason")
    list_filter = ("reason",)


@admin.register(RedemptionItem)
class RedemptionItemAdmin(ReadOnlyAdmin):
    list_display = ("name", "points_cost", "stock", "is_active")


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "membership", "item", "quantity", "points", "cash_amount")
    list_select_related = ("membership", "item")

"""Roles and what each may do: the single table every permission check reads."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Store manager")
    SALES = "sales", _("Salesperson")
    SERVICE = "service", _("Customer service")
    MARKETING = "marketing", _("Marketing")
    ANALYST = "analyst", _("Analyst")


class Scope(models.TextChoices):
    ALL = "all", _("All customers")
    TEAM = "team", _("Team's customers and the pool")
    OWN = "own", _("Own customers and the pool")


@dataclass(frozen=True, kw_only=True)
class RolePolicy:
    """What a role may do, flag by flag; every field is named where a policy is built, and
    `/api/me` returns them all (kehu.accounts.api builds its schema from these fields)."""

    scope: Scope
    sees_contact_details: bool = False
    can_edit_customers: bool = False
    can_log_interactions: bool = False
    can_claim: bool = False
    can_transfer: bool = False
    can_import: bool = False
    can_export: bool = False
    can_manage_settings: bool = False
    can_manage_segments: bool = False
    # Loyalty: serve members at the counter (enrol, earn, redeem points and coupons); run the
    # programme (tiers, gifts, coupon templates and issuing); adjust a member's points by hand;
    # freeze, cancel and reactivate memberships.
    can_serve_members: bool = False
    can_manage_loyalty: bool = False
    can_adjust_points: bool = False
    can_change_memberships: bool = False


# A flag left out is False.
ROLE_POLICIES: dict[str, RolePolicy] = {
    Role.ADMIN: RolePolicy(
        scope=Scope.ALL,
        sees_contact_details=True,
        can_edit_customers=True,
        can_log_interactions=True,
        can_transfer=True,
        can_import=True,
        can_export=True,
        can_manage_settings=True,
        can_manage_segments=True,
        can_serve_members=True,
        can_manage_loyalty=True,
        can_adjust_points=True,
        can_change_memberships=True,
    ),
    Role.MANAGER: RolePolicy(
        scope=Scope.TEAM,
        sees_contact_details=True,
        can_edit_customers=True,
        can_log_interactions=True,
        can_claim=True,
        can_transfer=True,
        can_import=True,
        can_export=True,
        can_manage_segments=True,
        can_serve_members=True,
        can_manage_loyalty=True,
        can_adjust_points=True,
        can_change_memberships=True,
    ),
    Role.SALES: RolePolicy(
        scope=Scope.OWN,
        sees_contact_details=True,
        can_edit_customers=True,
        can_log_interactions=True,
        can_claim=True,
        can_import=True,
        can_export=True,
        can_manage_segments=True,
        can_serve_members=True,
    ),
    Role.SERVICE: RolePolicy(
        scope=Scope.ALL,
        sees_contact_details=True,
        can_log_interactions=True,
        can_serve_members=True,
    ),
    Role.MARKETING: RolePolicy(
        scope=Scope.ALL,
        can_export=True,
        can_manage_segments=True,
        can_manage_loyalty=True,
    ),
    Role.ANALYST: RolePolicy(
        scope=Scope.ALL,
        can_export=True,
        can_manage_segments=True,
    ),
}


def policy_for(role: str) -> RolePolicy:
    return ROLE_POLICIES[role]

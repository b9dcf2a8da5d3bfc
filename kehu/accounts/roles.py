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


@dataclass(frozen=True)
class RolePolicy:
    scope: Scope
    sees_contact_details: bool
    can_edit_customers: bool
    can_log_interactions: bool
    can_claim: bool
    can_transfer: bool
    can_import: bool
    can_export: bool
    can_manage_settings: bool
    can_manage_segments: bool
    # Loyalty: serve members at the counter (enrol, earn, redeem points and coupons); run the
    # programme (tiers, gifts, coupon templates and issuing); adjust a member's points by hand;
    # freeze, cancel and reactivate memberships.
    can_serve_members: bool = False
    can_manage_loyalty: bool = False
    can_adjust_points: bool = False
    can_change_memberships: bool = False


# Positional flags in field order: scope, sees contact details, edits customers, logs
# interactions, claims, transfers, imports, exports, manages settings, manages segments.
# fmt: off
ROLE_POLICIES: dict[str, RolePolicy] = {
    Role.ADMIN: RolePolicy(
        Scope.ALL, True, True, True, False, True, True, True, True, True,
        can_serve_members=True, can_manage_loyalty=True, can_adjust_points=True,
        can_change_memberships=True,
    ),
    Role.MANAGER: RolePolicy(
        Scope.TEAM, True, True, True, True, True, True, True, False, True,
        can_serve_members=True, can_manage_loyalty=True, can_adjust_points=True,
        can_change_memberships=True,
    ),
    Role.SALES: RolePolicy(
        Scope.OWN, True, True, True, True, False, True, True, False, True,
        can_serve_members=True,
    ),
    Role.SERVICE: RolePolicy(
        Scope.ALL, True, False, True, False, False, False, False, False, False,
        can_serve_members=True,
    ),
    Role.MARKETING: RolePolicy(
        Scope.ALL, False, False, False, False, False, False, True, False, True,
        can_manage_loyalty=True,
    ),
    Role.ANALYST: RolePolicy(
        Scope.ALL, False, False, False, False, False, False, True, False, True
    ),
}
# fmt: on


def policy_for(role: str) -> RolePolicy:
    return ROLE_POLICIES[role]

"""One check per action: `may(user, "segment.edit", segment)` and `require(...)`.

Every action a user can be refused has a name in one registry. An action is first a role
question (`needs`: the policy flags of kehu.accounts.roles, any of which suffices, and an optional
scope) and then, when a record is given and the app that owns it registered a rule, a question
about that record (“is it their customer”, “did they create this segment”). Role-level actions
are declared here; the apps above accounts attach their record rules from `AppConfig.ready()`
(`register_rule`), so this module imports none of them.

`require` raises `Refused`, which is both the services' `NotAllowed` (the API answers it 403 with
its code, pages and imports show its message) and Django's `PermissionDenied` (a page answers
403). An unknown action name raises `UnknownAction`: a typo never silently allows or denies.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kehu.accounts.roles import RolePolicy, Scope
from kehu.core.errors import NotAllowed

if TYPE_CHECKING:
    from kehu.accounts.models import User

Rule = Callable[["User", Any], bool]
Message = str | Promise | Callable[[Any], str]


class Refused(NotAllowed, PermissionDenied):
    """The user may not do the action: 403 on a page, in the API and in a service's result."""


class UnknownAction(LookupError):
    """An action name nobody registered (a typo in code or a template)."""


@dataclass
class Action:
    name: str
    description: Promise | str
    refusal: Message
    needs: tuple[str, ...] = ()
    scope: Scope | None = None
    rule: Rule | None = None
    code: str = "not_allowed"
    field: str | None = None

    def role_allows(self, policy: RolePolicy) -> bool:
        if self.needs and not any(getattr(policy, flag) for flag in self.needs):
            return False
        return self.scope is None or policy.scope == self.scope

    def message(self, obj: Any) -> str:
        refusal = self.refusal
        if callable(refusal) and not isinstance(refusal, Promise):
            return refusal(obj)
        return str(refusal)


ACTIONS: dict[str, Action] = {}


def register_action(
    name: str,
    description: Promise | str,
    refusal: Message,
    *,
    needs: Iterable[str] = (),
    scope: Scope | None = None,
    rule: Rule | None = None,
    code: str = "not_allowed",
    field: str | None = None,
) -> Action:
    """Declare an action (once: a second declaration of a name is a mistake)."""
    if name in ACTIONS:
        raise ValueError(f"The action {name!r} is declared twice.")
    flags = tuple(needs)
    known = set(RolePolicy.__dataclass_fields__)
    if unknown := [flag for flag in flags if flag not in known]:
        raise ValueError(f"The action {name!r} needs unknown policy flags {unknown}.")
    action = Action(name, description, refusal, flags, scope, rule, code, field)
    ACTIONS[name] = action
    return action


def register_rule(name: str, rule: Rule) -> None:
    """The owning app's rule about one record, asked after the role allows the action."""
    action = action_named(name)
    if action.rule is not None and action.rule is not rule:
        raise ValueError(f"The action {name!r} already has a rule.")
    action.rule = rule


def action_named(name: str) -> Action:
    try:
        return ACTIONS[name]
    except KeyError:
        raise UnknownAction(f"No action is named {name!r} (kehu.accounts.permissions).") from None


def may(user: "User", action: str, obj: Any = None) -> bool:
    """Whether `user` may do `action` (on `obj`, when given; without it, in general)."""
    entry = action_named(action)
    if not getattr(user, "is_authenticated", False):
        return False
    if not entry.role_allows(user.policy):
        return False
    if obj is not None and entry.rule is not None:
        return entry.rule(user, obj)
    return True


def require(user: "User", action: str, obj: Any = None) -> None:
    """Refuse (`Refused`: 403) unless `user` may do `action`."""
    if not may(user, action, obj):
        entry = action_named(action)
        details: dict[str, object] = {"field": entry.field} if entry.field else {}
        raise Refused(entry.message(obj), code=entry.code, details=details)


def allowed_actions(user: "User") -> list[str]:
    """The actions the user's role permits in general (their records may still refuse some)."""
    return sorted(name for name in ACTIONS if may(user, name))


def catalogue() -> list[tuple[str, str]]:
    """Every action with what it means, by name."""
    return [(name, str(ACTIONS[name].description)) for name in sorted(ACTIONS)]


# --- the actions ------------------------------------------------------------------------------
# Declared here with their role condition; the apps owning the records add their rules.

LOYALTY_STAFF = ("can_serve_members", "can_manage_loyalty")

register_action(
    "customer.create",
    _("Create customers"),
    _("Your role may not create customers."),
    needs=["can_edit_customers"],
)
register_action(
    "customer.edit",
    _("Edit a customer (salespeople: their own)"),
    _("You may not edit this customer."),
    needs=["can_edit_customers"],
)
register_action(
    "customer.log_interaction",
    _("Log a contact with a customer (salespeople: their own)"),
    _("Claim this customer before logging contacts with them."),
    needs=["can_log_interactions"],
)
register_action(
    "customer.see_contact",
    _("See a customer's contact details unmasked"),
    _("Your role sees this customer's contact details masked."),
    needs=["sees_contact_details"],
)
register_action(
    "customer.claim",
    _("Claim customers from the pool"),
    _("Your role may not claim customers."),
    needs=["can_claim"],
)
register_action(
    "customer.transfer",
    _("Transfer customers to another salesperson"),
    _("Your role may not transfer customers."),
    needs=["can_transfer"],
)
register_action(
    "data.import", _("Import data"), _("Your role may not import data."), needs=["can_import"]
)
register_action(
    "data.export", _("Export data"), _("Your role may not export data."), needs=["can_export"]
)
register_action(
    "settings.manage",
    _("Change the settings"),
    _("Only administrators may change the settings."),
    needs=["can_manage_settings"],
)
register_action(
    "webhook.manage",
    _("Manage webhooks"),
    _("Only administrators may manage webhooks."),
    needs=["can_manage_settings"],
)
register_action(
    "follow_up.use",
    _("Make call-backs"),
    _("Your role does not make call-backs."),
    needs=["can_log_interactions"],
)
register_action(
    "segment.use",
    _("Use segments"),
    _("Your role may not manage segments."),
    needs=["can_manage_segments"],
)
register_action(
    "segment.edit",
    _("Edit, delete and change the members of a segment (its creator or an administrator)"),
    _("Only the person who created this segment or an administrator may change it."),
    needs=["can_manage_segments"],
)
register_action(
    "prediction.see_diagnostics",
    _("See the model diagnostics (roles that see every customer)"),
    _("Your role may not see the model diagnostics."),
    needs=["can_manage_segments"],
    scope=Scope.ALL,
)
register_action(
    "store.serve",
    _("Serve customers at a store (its staff)"),
    lambda store: str(
        _("You do not work at %(store)s: only its staff may serve customers there.")
        % {"store": getattr(store, "name", "")}
    ),
    code="not_your_store",
    field="store",
)
register_action(
    "member.read",
    _("See loyalty members"),
    _("Your role may not see members."),
    needs=LOYALTY_STAFF,
)
register_action(
    "member.serve",
    _("Serve members at the counter: enrol, earn, redeem points and coupons"),
    _("Your role may not serve members."),
    needs=["can_serve_members"],
)
register_action(
    "member.change_status",
    _("Freeze, cancel and reactivate memberships"),
    _("Your role may not change memberships."),
    needs=["can_change_memberships"],
)
register_action(
    "points.redeem",
    _("Redeem points at the counter"),
    _("Your role may not redeem points."),
    needs=["can_serve_members"],
)
register_action(
    "points.adjust",
    _("Adjust a member's points by hand"),
    _("Your role may not adjust points."),
    needs=["can_adjust_points"],
)
register_action(
    "loyalty.manage",
    _("Run the loyalty programme: tiers, gifts, coupon templates and issuing"),
    _("Your role may not run the loyalty programme."),
    needs=["can_manage_loyalty"],
)
register_action(
    "coupon.read", _("See coupons"), _("Your role may not see coupons."), needs=LOYALTY_STAFF
)
register_action(
    "group_deal.run",
    _("Run group deals"),
    _("Your role may not run group deals."),
    needs=LOYALTY_STAFF,
)
register_action(
    "referral.read",
    _("See referrals and group deals"),
    _("Your role may not see referrals or group deals."),
    needs=LOYALTY_STAFF,
)
register_action(
    "approval.read",
    _("See approvals"),
    _("Your role may not see approvals."),
    needs=["can_adjust_points", "can_manage_loyalty"],
)
register_action(
    "approval.decide",
    _("Approve or reject a request (a second person: administrators, other teams' managers)"),
    _("You may not decide this request."),
    needs=["can_adjust_points"],
)
register_action(
    "approval.read_points",
    _("See points approvals"),
    _("Your role may not see points approvals."),
    needs=["can_adjust_points"],
)
register_action(
    "approval.read_coupons",
    _("See coupon approvals"),
    _("Your role may not see coupon approvals."),
    needs=["can_manage_loyalty"],
)

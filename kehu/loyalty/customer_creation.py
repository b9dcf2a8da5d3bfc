"""A member's referral code given with a new customer (the customer form and API): recorded
through the customers app's creation extras, in the creation's transaction."""

from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.customers.creation import register_creation_extra
from kehu.loyalty.referrals.services import attribute_referral, normalise_code


def attach_referral_code(actor: User, customer_id: int, code: str) -> str | None:
    """Attribute the new customer to the member with this code (a refusal names the rule and
    undoes the creation); a blank code does nothing."""
    if not normalise_code(code):
        return None
    referral = attribute_referral(actor, customer_id, code).referral
    return _(
        "Referral code %(code)s recorded: both sides are rewarded after the first qualifying "
        "purchase."
    ) % {"code": referral.code_used}


def register() -> None:
    register_creation_extra("referral_code", attach_referral_code)

"""Who works where: the stores a user serves at, and the one check every counter action
(enrolment, points and coupon redemption, refunds) makes before it acts at a store.

The rule: a user acts at a store only if they are on its staff (`Store.staff`, kept by
administrators in /admin/); administrators act at every store. Refused: 403 `not_your_store`.
"""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.commerce.models import Store
from kehu.core.errors import NotAllowed, RuleViolation


def stores_of(user: User) -> QuerySet[Store]:
    """The active stores the user may act at: every one for an administrator."""
    stores = Store.objects.filter(is_active=True).order_by("code")
    if user.is_administrator:
        return stores
    return stores.filter(staff=user)


def works_at(user: User, store: Store) -> bool:
    return user.is_administrator or store.staff.filter(pk=user.pk).exists()


def require_works_at(user: User, store: Store) -> None:
    """Refuse (403 `not_your_store`) a user acting at a store whose staff they are not on."""
    if not works_at(user, store):
        raise NotAllowed(
            _("You do not work at %(store)s: only its staff may serve customers there.")
            % {"store": store.name},
            code="not_your_store",
            details={"field": "store"},
        )


def store_by_code(code: str) -> Store:
    store = Store.objects.filter(code=code).first()
    if store is None:
        raise RuleViolation(
            _("Unknown store “%(code)s”.") % {"code": code},
            code="unknown_store",
            details={"field": "store"},
        )
    return store


def acting_store(user: User, store_code: str, *, order_store: Store | None = None) -> Store | None:
    """The store a counter action happens at, checked against the user's stores.

    The store given by its code, else the order's store, else the user's only store; an
    administrator may act at no store in particular (None). The user must work at the given
    store and at the order's store alike (a different code is the caller's `wrong_store`).
    Anyone else with no or several stores must say which (422 on the field `store`).
    """
    store = store_by_code(store_code) if store_code else None
    for place in (store, order_store):
        if place is not None:
            require_works_at(user, place)
    chosen = store or order_store
    if chosen is not None or user.is_administrator:
        return chosen
    return only_store(user)


def only_store(user: User) -> Store:
    stores = list(stores_of(user)[:2])
    if len(stores) == 1:
        return stores[0]
    if not stores:
        message = _("You do not work at any store: an administrator adds you to a store's staff.")
        raise NotAllowed(message, code="not_your_store", details={"field": "store"})
    raise ValidationError(
        {"store": _("You work at several stores: choose the store you are serving at.")}
    )

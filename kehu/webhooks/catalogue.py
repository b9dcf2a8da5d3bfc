"""The events a webhook subscription may ask for, with their names in the user's language.

The names are those of the domain-event catalogue (`kehu.events.catalogue`, checked by
kehu/webhooks/tests/test_catalogue.py); a receiver sees the name as `type`.
"""

from django.utils.translation import gettext_lazy as _

EVENT_TYPES = (
    ("order.posted", _("Order posted")),
    ("order.refunded", _("Order refunded")),
    ("customer.created", _("Customer created")),
    ("customer.updated", _("Customer updated")),
    ("customer.merged", _("Customers merged")),
    ("member.enrolled", _("Member enrolled")),
    ("member.tier_changed", _("Member tier changed")),
    ("points.changed", _("Points changed")),
    ("coupon.issued", _("Coupon issued")),
    ("coupon.redeemed", _("Coupon redeemed")),
    ("churn_warning.raised", _("Churn warning raised")),
    ("segment.joined", _("Customer joined a segment")),
    ("segment.left", _("Customer left a segment")),
)
EVENT_NAMES = tuple(name for name, _label in EVENT_TYPES)
# Sent by the "send test event" button; no subscription asks for it, every one may receive it.
TEST_EVENT = "webhook.test"
EVENT_LABELS = {**dict(EVENT_TYPES), TEST_EVENT: _("Test event")}


def event_label(name: str) -> str:
    return str(EVENT_LABELS.get(name, name))

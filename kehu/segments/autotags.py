"""Automatic tags: a rule decides who carries a tag; applying it adds and removes the tag.

Run after the metrics refresh (the default rules read scores). Applying twice changes nothing
the second time. Only the tag's own rows in the customer–tag table are touched, in bulk.
"""

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.customers.models import Customer, Tag, TagGroup
from kehu.segments.models import AutoTagRule
from kehu.segments.rules import compile_rule, validate_rule

logger = logging.getLogger(__name__)

AUTO_TAG_GROUP = "自动标签"
BATCH = 2000
CustomerTag = Customer.tags.through


def default_rules() -> list[tuple[str, dict, str]]:
    return [
        (
            "高频",
            {"field": "f_score", "op": "eq", "value": 5},
            _("Customers in the top fifth by number of orders (F score 5)."),
        ),
        (
            "价格敏感",
            {"field": "discount_share", "op": "gt", "value": 0.5},
            _("Customers most of whose orders had a discount."),
        ),
    ]


def ensure_default_auto_tag_rules() -> list[AutoTagRule]:
    """Create the default automatic tags (高频, 价格敏感) in the group 自动标签, once."""
    group, _created = TagGroup.objects.get_or_create(name=AUTO_TAG_GROUP)
    rules = []
    for name, rule, description in default_rules():
        tag, _created = Tag.objects.get_or_create(name=name, defaults={"group": group})
        if tag.group_id is None:
            tag.group = group
            tag.save(update_fields=["group"])
        auto_rule, _created = AutoTagRule.objects.get_or_create(
            tag=tag, defaults={"rule": validate_rule(rule), "description": description}
        )
        rules.append(auto_rule)
    return rules


def apply_auto_tag_rule(auto_rule: AutoTagRule, now: datetime) -> int:
    """Tag the customers the rule selects and untag the rest; returns how many changed."""
    try:
        selection = compile_rule(auto_rule.rule, now=now)
    except ValidationError as error:
        logger.warning("Automatic tag %s has a rule that no longer applies: %s", auto_rule, error)
        return 0
    with transaction.atomic():
        matched = set(Customer.objects.filter(selection).values_list("pk", flat=True))
        tagged = set(
            CustomerTag.objects.filter(tag_id=auto_rule.tag_id).values_list(
                "customer_id", flat=True
            )
        )
        added, removed = sorted(matched - tagged), sorted(tagged - matched)
        CustomerTag.objects.bulk_create(
            (CustomerTag(customer_id=pk, tag_id=auto_rule.tag_id) for pk in added),
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        for start in range(0, len(removed), BATCH):
            CustomerTag.objects.filter(
                tag_id=auto_rule.tag_id, customer_id__in=removed[start : start + BATCH]
            ).delete()
        AutoTagRule.objects.filter(pk=auto_rule.pk).update(last_applied_at=now)
    return len(added) + len(removed)


def apply_auto_tag_rules(now: datetime | None = None) -> int:
    """Apply every active automatic tag; returns how many tag assignments were added or removed."""
    now = now or timezone.now()
    rules = AutoTagRule.objects.filter(is_active=True).select_related("tag")
    return sum(apply_auto_tag_rule(auto_rule, now) for auto_rule in rules)

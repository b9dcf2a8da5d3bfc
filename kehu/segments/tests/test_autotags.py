from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.customers.models import Tag, TagGroup
from kehu.segments.autotags import (
    AUTO_TAG_GROUP,
    apply_auto_tag_rules,
    ensure_default_auto_tag_rules,
)
from kehu.segments.models import AutoTagRule
from kehu.segments.tests.rule_helpers import NOW, metrics_for
from tests.fixtures.records import make_customer


def tag_names(customer) -> set[str]:
    return set(customer.tags.values_list("name", flat=True))


def test_default_rules_are_created_once_in_their_group(db):
    ensure_default_auto_tag_rules()
    ensure_default_auto_tag_rules()
    rules = {rule.tag.name: rule.rule for rule in AutoTagRule.objects.select_related("tag")}
    assert rules == {
        "高频": {"field": "f_score", "op": "eq", "value": 5},
        "价格敏感": {"field": "discount_share", "op": "gt", "value": 0.5},
    }
    group = TagGroup.objects.get(name=AUTO_TAG_GROUP)
    assert set(group.tags.values_list("name", flat=True)) == {"高频", "价格敏感"}


def test_an_existing_tag_of_the_same_name_is_reused(db):
    existing = Tag.objects.create(name="高频")
    ensure_default_auto_tag_rules()
    existing.refresh_from_db()
    assert existing.group.name == AUTO_TAG_GROUP
    assert Tag.objects.filter(name="高频").count() == 1


def test_tags_are_added_and_removed_idempotently(db):
    ensure_default_auto_tag_rules()
    frequent = make_customer(name="常客")
    bargain = make_customer(name="爱打折")
    both = make_customer(name="都是")
    neither = make_customer(name="都不是")
    neither.tags.add(Tag.objects.get(name="高频"))  # stale: no longer in the top quintile
    neither.tags.add(Tag.objects.create(name="手工标签"))
    metrics_for(frequent, f_score=5, discount_share=0.1)
    metrics_for(bargain, f_score=2, discount_share=0.8)
    metrics_for(both, f_score=5, discount_share=0.51)
    metrics_for(neither, f_score=4, discount_share=0.5)

    assert apply_auto_tag_rules(now=NOW) == 5
    assert tag_names(frequent) == {"高频"}
    assert tag_names(bargain) == {"价格敏感"}
    assert tag_names(both) == {"高频", "价格敏感"}
    assert tag_names(neither) == {"手工标签"}
    assert apply_auto_tag_rules(now=NOW) == 0
    assert AutoTagRule.objects.filter(last_applied_at=NOW).count() == 2

    frequent.metrics.f_score = 3
    frequent.metrics.save()
    assert apply_auto_tag_rules(now=NOW) == 1
    assert tag_names(frequent) == set()


def test_inactive_rules_and_broken_rules_change_nothing(db):
    ensure_default_auto_tag_rules()
    AutoTagRule.objects.filter(tag__name="高频").update(is_active=False)
    AutoTagRule.objects.filter(tag__name="价格敏感").update(rule={"field": "custom.gone"})
    metrics_for(make_customer(name="常客"), f_score=5, discount_share=0.9)
    assert apply_auto_tag_rules(now=NOW) == 0
    assert Tag.objects.get(name="高频").customers.count() == 0


def test_applying_uses_a_fixed_number_of_queries(db):
    ensure_default_auto_tag_rules()
    for number in range(30):
        metrics_for(make_customer(name=f"客{number}"), f_score=5, discount_share=0.9)
    with CaptureQueriesContext(connection) as few:
        apply_auto_tag_rules(now=NOW)
    for number in range(30, 90):
        metrics_for(make_customer(name=f"客{number}"), f_score=5, discount_share=0.9)
    with CaptureQueriesContext(connection) as more:
        assert apply_auto_tag_rules(now=NOW) == 120
    assert len(more.captured_queries) == len(few.captured_queries)

"""Value tiers and lifecycle stages at their thresholds."""

import pytest

from kehu.analytics import (
    LifecycleStage,
    LifecycleThresholds,
    TierRules,
    lifecycle_stages,
    value_tiers,
)

NAN = float("nan")


def test_tiers_at_the_thresholds():
    rules = TierRules(vip_min_monetary=1000.0, new_max_tenure_days=30)

    tiers = value_tiers(
        monetary=[1000.0, 999.99, 999.99, 999.99, 5000.0, NAN],
        frequency=[1, 50, 2, 2, 1, NAN],
        tenure_days=[400, 400, 30, 31, 3, NAN],
        rules=rules,
    )

    assert tiers.tolist() == ["vip", "regular", "new", "regular", "vip", "new"]


def test_vip_by_frequency_when_set():
    rules = TierRules(vip_min_monetary=1000.0, vip_min_frequency=12)

    tiers = value_tiers([100.0, 100.0], [12, 11], [400, 400], rules)

    assert tiers.tolist() == ["vip", "regular"]


def test_bad_tier_rules_are_refused():
    with pytest.raises(ValueError, match="vip_min_monetary"):
        TierRules(vip_min_monetary=0)
    with pytest.raises(ValueError, match="vip_min_frequency"):
        TierRules(vip_min_monetary=10, vip_min_frequency=0)


def test_lifecycle_stages_at_each_threshold():
    thresholds = LifecycleThresholds(new_days=30, active_days=90, dormant_days=180)
    cases = [
        # recency, tenure, previous gap -> stage
        (NAN, NAN, NAN, LifecycleStage.PROSPECT),
        (30, 30, NAN, LifecycleStage.NEW),
        (5, 31, 26, LifecycleStage.ACTIVE),
        (90, 400, 100, LifecycleStage.ACTIVE),
        (91, 400, 100, LifecycleStage.DORMANT),
        (180, 400, NAN, LifecycleStage.DORMANT),
        (181, 400, NAN, LifecycleStage.CHURNED),
        (10, 400, 181, LifecycleStage.REACTIVATED),
        (10, 400, 180, LifecycleStage.ACTIVE),
        (91, 400, 500, LifecycleStage.DORMANT),  # came back, but not recently
    ]
    recency, tenure, gap, expected = zip(*cases, strict=True)

    stages = lifecycle_stages(recency, tenure, gap, thresholds)

    assert stages.tolist() == [stage.value for stage in expected]


def test_new_wins_over_reactivated_when_the_first_purchase_is_recent():
    stages = lifecycle_stages([1], [20], [19], LifecycleThresholds(new_days=30))

    assert stages.tolist() == ["new"]


@pytest.mark.parametrize(("new", "active", "dormant"), [(40, 30, 90), (10, 90, 90), (-1, 5, 9)])
def test_inconsistent_thresholds_are_refused(new, active, dormant):
    with pytest.raises(ValueError, match="thresholds"):
        LifecycleThresholds(new_days=new, active_days=active, dormant_days=dormant)

"""The numpy draws behind the demo: seasons, the buying process, discounts."""

from datetime import UTC, date, datetime

import numpy as np

from kehu.demo import simulate
from kehu.demo.seasons import day_weights, weight_of
from kehu.demo.timeline import DAY, build_timeline


def test_shopping_festivals_and_new_year_shape_the_days():
    ordinary_tuesday = weight_of(date(2025, 3, 11))
    assert weight_of(date(2025, 11, 11)) == 3.0 * ordinary_tuesday
    assert weight_of(date(2025, 6, 18)) > 2.5 * ordinary_tuesday
    assert weight_of(date(2025, 1, 28)) > 2 * ordinary_tuesday  # New Year's Eve shopping
    assert weight_of(date(2025, 1, 30)) < ordinary_tuesday  # the festival days are quiet
    assert weight_of(date(2025, 3, 15)) > ordinary_tuesday  # a Saturday
    assert abs(day_weights(date(2024, 1, 1), 730).mean() - 1) < 1e-9


def test_buyers_drop_out_and_buy_at_different_rates():
    now = datetime(2025, 12, 31, 20, tzinfo=UTC)
    timeline = build_timeline(now, 730, "Asia/Shanghai")
    rng = np.random.default_rng(3)
    buyers = simulate.draw_buyers(rng, timeline, 4_000, simulate.build_catalogue())
    orders = simulate.draw_orders(rng, timeline, buyers)
    counts = np.bincount(orders.customer, minlength=4_000)
    last = np.full(4_000, -1)
    np.maximum.at(last, orders.customer, orders.ordered_at)
    assert 10 <= counts.mean() <= 16
    assert counts.std() > counts.mean()  # heterogeneous rates: gamma-mixed
    assert ((counts > 0) & (last < timeline.now - 180 * DAY)).mean() > 0.15  # dropouts
    assert (orders.ordered_at >= buyers.created[orders.customer]).all()
    assert (orders.ordered_at <= timeline.now).all()


def test_discounts_are_shared_over_lines_in_whole_cents():
    order = np.array([0, 0, 0, 1, 2, 2])
    gross = np.array([3333, 3333, 3334, 500, 15000, 5000])
    discount = simulate.share_discount(order, gross, np.array([1000, 0, 3000]))
    assert np.bincount(order, discount).tolist() == [1000, 0, 3000]
    assert (discount <= gross).all() and (discount >= 0).all()
    assert discount.tolist() == [334, 333, 333, 0, 2250, 750]

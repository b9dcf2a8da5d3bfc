"""Value tiers (VIP / regular / new) from spending and tenure, with thresholds the business sets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

VIP = "vip"
REGULAR = "regular"
NEW = "new"
VALUE_TIERS: tuple[str, ...] = (VIP, REGULAR, NEW)


@dataclass(frozen=True)
class TierRules:
    """Thresholds of the value tiers.

    A customer is **VIP** when ``monetary >= vip_min_monetary`` or, when
    ``vip_min_frequency`` is set, ``frequency >= vip_min_frequency``; otherwise **new** when
    their first purchase was at most ``new_max_tenure_days`` days ago (or they never bought);
    otherwise **regular**. VIP is checked first: a big first order makes a VIP, not a new
    customer.

    Examples
    --------
    >>> TierRules(vip_min_monetary=5000.0, vip_min_frequency=12, new_max_tenure_days=30)
    TierRules(vip_min_monetary=5000.0, vip_min_frequency=12, new_max_tenure_days=30)
    """

    vip_min_monetary: float
    vip_min_frequency: int | None = None
    new_max_tenure_days: int = 30

    def __post_init__(self) -> None:
        if self.vip_min_monetary <= 0:
            raise ValueError("vip_min_monetary must be positive")
        if self.vip_min_frequency is not None and self.vip_min_frequency < 1:
            raise ValueError("vip_min_frequency must be at least 1")
        if self.new_max_tenure_days < 0:
            raise ValueError("new_max_tenure_days must not be negative")


def value_tiers(
    monetary: npt.ArrayLike,
    frequency: npt.ArrayLike,
    tenure_days: npt.ArrayLike,
    rules: TierRules,
) -> npt.NDArray[np.str_]:
    """The tier of each customer; NaN tenure or monetary means "never bought".

    Examples
    --------
    >>> rules = TierRules(vip_min_monetary=1000.0, new_max_tenure_days=30)
    >>> value_tiers([1500.0, 200.0, 200.0], [3, 2, 1], [400, 400, 10], rules).tolist()
    ['vip', 'regular', 'new']
    """
    spent = np.asarray(monetary, dtype=np.float64)
    orders = np.asarray(frequency, dtype=np.float64)
    tenure = np.asarray(tenure_days, dtype=np.float64)
    is_vip = spent >= rules.vip_min_monetary
    if rules.vip_min_frequency is not None:
        is_vip |= orders >= rules.vip_min_frequency
    is_new = np.isnan(tenure) | (tenure <= rules.new_max_tenure_days)
    tiers: npt.NDArray[np.str_] = np.select([is_vip, is_new], [VIP, NEW], default=REGULAR).astype(
        np.str_
    )
    return tiers

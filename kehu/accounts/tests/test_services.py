import pytest

from kehu.accounts.models import PoolPolicy
from kehu.accounts.services import update_pool_policy
from kehu.core.errors import NotAllowed


def test_only_administrators_change_the_pool_policy(admin_user, manager):
    with pytest.raises(NotAllowed):
        update_pool_policy(manager, claim_limit=5, auto_return_days=3, is_auto_return_enabled=False)
    assert PoolPolicy.current().claim_limit == 200
    update_pool_policy(admin_user, claim_limit=5, auto_return_days=3, is_auto_return_enabled=False)
    policy = PoolPolicy.current()
    assert (policy.claim_limit, policy.auto_return_days, policy.is_auto_return_enabled) == (
        5,
        3,
        False,
    )

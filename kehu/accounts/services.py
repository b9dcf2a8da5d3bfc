"""Writes for accounts: API tokens (created, revoked, checked on every API request) and the
customer pool's rules."""

from collections.abc import Sequence
from datetime import timedelta

from axes.utils import reset as reset_failed_logins
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import ApiToken, PoolPolicy, User
from kehu.core.errors import NotAllowed
from kehu.core.throttle import RateLimited, count_hit, forget_hits, is_over

# Recording every request's time would write to the database on each API call; a minute's
# precision is plenty to tell a token in use from a forgotten one.
LAST_USED_PRECISION = timedelta(minutes=1)


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for the user; the raw token is returned once and never stored."""
    raw_token = ApiToken.new_raw_token()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        digest=ApiToken.digest_of(raw_token),
        prefix=raw_token[:8],
    )
    return token, raw_token


def revoke_api_token(token_id: int, *, user: User | None = None) -> bool:
    """Delete a token (only among the user's own when a user is given); False if none matched."""
    tokens = ApiToken.objects.filter(pk=token_id)
    if user is not None:
        tokens = tokens.filter(user=user)
    deleted, _per_model = tokens.delete()
    return deleted > 0


def authenticate_token(raw_token: str) -> User | None:
    """The active user a raw bearer token belongs to, or None; notes when it was last used."""
    if not raw_token:
        return None
    token = (
        ApiToken.objects.select_related("user").filter(digest=ApiToken.digest_of(raw_token)).first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def authenticate_api_request(raw_token: str, address: str) -> User | None:
    """The user of a bearer token, within the API's limits; raises RateLimited past them.

    An address that sent API_TOKEN_FAILURE_LIMIT wrong tokens gets no answer on any token, right
    or wrong, until its window ends, so tokens cannot be guessed; each token may make
    API_RATE_LIMIT_PER_MINUTE requests a minute.
    """
    failures = f"api-token-failures:{address}"
    failure_period = settings.API_TOKEN_FAILURE_MINUTES * 60
    failure_limit = settings.API_TOKEN_FAILURE_LIMIT
    wait = is_over(failures, limit=failure_limit, period=failure_period)
    if wait:
        raise RateLimited(retry_after=wait)
    user = authenticate_token(raw_token)
    if user is None:
        count_hit(failures, limit=failure_limit + 1, period=failure_period)
        return None
    count_hit(
        f"api-token:{ApiToken.digest_of(raw_token)[:32]}",
        limit=settings.API_RATE_LIMIT_PER_MINUTE,
        period=60,
    )
    return user


def unlock_sign_in(*, usernames: Sequence[str] = (), addresses: Sequence[str] = ()) -> int:
    """Lift the lock-out of these accounts and addresses at once; the number of records cleared.

    Clears the failed sign-ins django-axes counts and, for an address, its wrong API tokens.
    Who may do it is checked by the callers (the back office and the `kehu unlock` command).
    """
    cleared = sum(reset_failed_logins(username=username) for username in usernames)
    for address in addresses:
        cleared += reset_failed_logins(ip=address)
        period = settings.API_TOKEN_FAILURE_MINUTES * 60
        cleared += int(forget_hits(f"api-token-failures:{address}", period=period))
    return cleared


def update_pool_policy(
    actor: User, *, claim_limit: int, auto_return_days: int, is_auto_return_enabled: bool
) -> PoolPolicy:
    """Change the customer pool's rules; administrators only."""
    if not actor.policy.can_manage_settings:
        raise NotAllowed(_("Only administrators may change the settings."), code="not_allowed")
    errors: dict[str, list[str]] = {}
    if claim_limit < 0:
        errors["claim_limit"] = [_("The claim limit cannot be negative.")]
    if auto_return_days < 1:
        errors["auto_return_days"] = [_("At least one day.")]
    if errors:
        raise ValidationError(errors)
    policy = PoolPolicy.current()
    policy.claim_limit = claim_limit
    policy.auto_return_days = auto_return_days
    policy.is_auto_return_enabled = is_auto_return_enabled
    policy.save()
    return policy

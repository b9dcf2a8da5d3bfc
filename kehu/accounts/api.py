"""API for the caller's own account: who am I, my role and what my role may do."""

from django.http import HttpRequest
from ninja import Router, Schema

from kehu.accounts.models import Team, User
from kehu.accounts.roles import Role, Scope
from kehu.core.api_schemas import ErrorSchema

router = Router()


def caller(request: HttpRequest) -> User:
    """The user the request authenticated as (every router but this is behind authentication)."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


class TeamOut(Schema):
    id: int
    name: str


class PolicyOut(Schema):
    scope: Scope
    sees_contact_details: bool
    can_edit_customers: bool
    can_log_interactions: bool
    can_claim: bool
    can_transfer: bool
    can_import: bool
    can_export: bool
    can_manage_settings: bool


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: Role
    role_label: str
    team: TeamOut | None
    policy: PolicyOut


def team_out(team: Team | None) -> TeamOut | None:
    return TeamOut(id=team.pk, name=team.name) if team else None


@router.get(
    "/me",
    response={200: MeOut, 401: ErrorSchema},
    summary="Who am I",
    description="The authenticated user, their role and what the role permits.",
)
def me(request: HttpRequest) -> MeOut:
    user = caller(request)
    policy = user.policy
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=str(user),
        role=Role(user.role),
        role_label=str(user.get_role_display()),  # type: ignore[attr-defined]
        team=team_out(user.team),
        policy=PolicyOut(**{field: getattr(policy, field) for field in PolicyOut.model_fields}),
    )

"""API for the caller's own account: who am I, my role and what my role may do."""

from dataclasses import fields

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import create_model

from kehu.accounts.models import Team, User
from kehu.accounts.permissions import allowed_actions
from kehu.accounts.roles import Role, RolePolicy
from kehu.core.api_schemas import ErrorSchema

router = Router()


def caller(request: HttpRequest) -> User:
    """The user the request authenticated as (every router but this is behind authentication)."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


class TeamOut(Schema):
    id: int
    name: str


# Every field of RolePolicy, generated so the answer cannot drift from the table.
PolicyOut: type[Schema] = create_model(  # type: ignore[call-overload]
    "PolicyOut",
    __base__=Schema,
    **{field.name: (field.type, ...) for field in fields(RolePolicy)},
)


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: Role
    role_label: str
    team: TeamOut | None
    policy: PolicyOut  # type: ignore[valid-type]
    actions: list[str] = Field(
        description="The actions (kehu.accounts.permissions) the role permits in general; "
        "a record may still refuse some (a salesperson edits only their own customers)."
    )


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
        policy=PolicyOut(**{field.name: getattr(policy, field.name) for field in fields(policy)}),
        actions=allowed_actions(user),
    )

"""The one permission layer: named actions, their catalogue, `may`/`require`, the template tag,
and the role table with named flags that `/api/me` returns whole."""

import dataclasses
import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.template import Context, Template

from kehu.accounts.permissions import (
    ACTIONS,
    Refused,
    UnknownAction,
    allowed_actions,
    catalogue,
    may,
    register_action,
    require,
)
from kehu.accounts.roles import ROLE_POLICIES, Role, RolePolicy, Scope
from kehu.core.errors import NotAllowed
from tests.api_client import ApiClient
from tests.fixtures.people import make_user
from tests.fixtures.records import make_customer

KEHU = Path(__file__).resolve().parents[2]
# may(user, "x"...), require(actor, "x"...), {% may "x" ... %}
CODE_USE = re.compile(r"\b(?:may|require)\(\s*[\w.()]+,\s*\"([a-z_]+\.[a-z_]+)\"")
TEMPLATE_USE = re.compile(r"\{%\s*may\s+\"([^\"]+)\"")


def used_actions() -> set[tuple[str, str]]:
    used = set()
    for path in KEHU.rglob("*.py"):
        if "tests" in path.parts:
            continue
        used |= {(name, str(path)) for name in CODE_USE.findall(path.read_text())}
    for path in KEHU.rglob("*.html"):
        used |= {(name, str(path)) for name in TEMPLATE_USE.findall(path.read_text())}
    return used


def test_every_action_used_in_code_and_templates_is_in_the_catalogue():
    used = used_actions()
    assert len({name for name, _path in used}) >= 20  # the scan does find the uses
    unknown = sorted((name, path) for name, path in used if name not in ACTIONS)
    assert unknown == []


def test_the_catalogue_describes_every_action():
    entries = catalogue()
    assert [name for name, _text in entries] == sorted(ACTIONS)
    assert all(text.strip() for _name, text in entries)


def test_an_unknown_action_raises_instead_of_answering(sales):
    with pytest.raises(UnknownAction):
        may(sales, "segment.edti")
    with pytest.raises(UnknownAction):
        require(sales, "segment.edti")
    with pytest.raises(UnknownAction):
        Template('{% load kehu %}{% may "coupon.redeme" as x %}').render(Context({"user": sales}))


def test_an_action_is_declared_once_with_known_flags():
    with pytest.raises(ValueError, match="twice"):
        register_action("segment.edit", "x", "x")
    with pytest.raises(ValueError, match="unknown policy flags"):
        register_action("test.nothing", "x", "x", needs=["can_fly"])
    assert "test.nothing" not in ACTIONS


def test_refusal_is_both_a_service_error_and_a_page_403(marketer):
    with pytest.raises(Refused) as refused:
        require(marketer, "customer.create")
    assert isinstance(refused.value, NotAllowed)
    assert isinstance(refused.value, PermissionDenied)
    assert refused.value.code == "not_allowed"
    assert refused.value.message == "你的角色无权新建客户。"


def test_record_rules_come_from_the_apps_that_own_the_records(sales, other_sales, admin_user):
    mine = make_customer(sales, name="王芳")
    theirs = make_customer(other_sales, name="李雷")
    assert may(sales, "customer.edit", mine)
    assert not may(sales, "customer.edit", theirs)
    assert may(sales, "customer.edit")  # in general: the role edits customers
    assert may(admin_user, "customer.edit", theirs)
    assert may(sales, "customer.see_contact", mine)
    assert not may(sales, "customer.see_contact", theirs)


def test_store_refusal_names_the_store_and_the_field(sales):
    from kehu.commerce.models import Store

    store = Store.objects.create(code="S9", name="南京西路店")
    with pytest.raises(Refused) as refused:
        require(sales, "store.serve", store)
    assert refused.value.code == "not_your_store"
    assert "南京西路店" in refused.value.message
    assert refused.value.details == {"field": "store"}
    store.staff.add(sales)
    require(sales, "store.serve", store)


@pytest.mark.parametrize("role", list(Role))
def test_role_level_actions_follow_the_named_flags(db, role):
    user = make_user(f"user_{role}", role)
    policy = ROLE_POLICIES[role]
    for name in allowed_actions(user):
        assert ACTIONS[name].role_allows(policy)
    assert ("customer.create" in allowed_actions(user)) is policy.can_edit_customers
    assert ("loyalty.manage" in allowed_actions(user)) is policy.can_manage_loyalty
    diagnostics = policy.can_manage_segments and policy.scope == Scope.ALL
    assert ("prediction.see_diagnostics" in allowed_actions(user)) is diagnostics


def test_role_policies_are_built_with_named_flags_only():
    with pytest.raises(TypeError):
        RolePolicy(Scope.ALL, True)  # type: ignore[misc]
    assert ROLE_POLICIES[Role.SALES].can_claim is True
    assert ROLE_POLICIES[Role.ANALYST].can_claim is False


@pytest.mark.parametrize("fixture", ["sales", "marketer", "admin_user", "service_agent"])
def test_me_returns_every_policy_flag_and_the_role_level_actions(request, fixture):
    user = request.getfixturevalue(fixture)
    body = ApiClient(user).get("/me").json()
    policy = user.policy
    expected = {field.name: getattr(policy, field.name) for field in dataclasses.fields(RolePolicy)}
    assert body["policy"] == expected
    assert body["actions"] == allowed_actions(user)
    assert ("segment.edit" in body["actions"]) is policy.can_manage_segments

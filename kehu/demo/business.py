"""The demo business's fixed records: teams, staff, stores, channels, products, tags.

Created with get_or_create by natural key, so running the demo again reuses them.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from kehu.accounts.models import Team, User
from kehu.accounts.roles import Role
from kehu.commerce.models import Category, Product, SalesChannel, Store
from kehu.customers.models import Tag, TagGroup
from kehu.demo.catalogue import CATEGORIES, CHANNELS, STAFF, STORES, TAG_GROUPS, TEAMS


@dataclass(frozen=True)
class Business:
    stores: list[Store]  # in STORES order
    channels: list[SalesChannel]  # in CHANNELS order
    products: list[Product]  # in catalogue order
    staff: dict[str, User]  # by username
    tags: dict[str, Tag]  # by name

    def salespeople_of(self, team_name: str) -> list[User]:
        return [
            user
            for user in self.staff.values()
            if user.role == "sales" and user.team is not None and user.team.name == team_name
        ]

    def manager_of(self, team_name: str) -> User:
        for user in self.staff.values():
            if user.role == "manager" and user.team is not None and user.team.name == team_name:
                return user
        return self.staff["admin"]


@transaction.atomic  # one commit instead of one per record
def ensure_business() -> Business:
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
    business = Business(
        stores=ensure_stores(teams),
        channels=[
            SalesChannel.objects.update_or_create(
                code=spec.code, defaults={"name": spec.name, "kind": spec.kind}
            )[0]
            for spec in CHANNELS
        ],
        products=ensure_products(),
        staff=ensure_staff(teams),
        tags=ensure_tags(),
    )
    ensure_store_staff(business.stores, business.staff.values())
    return business


def ensure_stores(teams: dict[str, Team]) -> list[Store]:
    return [
        Store.objects.update_or_create(
            code=spec.code,
            defaults={"name": spec.name, "city": spec.city, "team": teams[spec.team]},
        )[0]
        for spec in STORES
    ]


def ensure_store_staff(stores: list[Store], staff: Iterable[User]) -> None:
    """Each store's counter staff: its team's people, and customer service at every store
    (administrators act everywhere without being staff)."""
    for store in stores:
        store.staff.set(
            [
                user
                for user in staff
                if (user.team_id is not None and user.team_id == store.team_id)
                or (user.team_id is None and user.role == Role.SERVICE)
            ]
        )


def ensure_products() -> list[Product]:
    products = []
    for category_index, spec in enumerate(CATEGORIES):
        category = Category.objects.get_or_create(name=spec.name)[0]
        for product_index, (name, price) in enumerate(spec.products, start=1):
            sku = f"SKU{category_index + 1:02d}{product_index:03d}"
            products.append(
                Product.objects.update_or_create(
                    sku=sku, defaults={"name": name, "category": category, "price": price}
                )[0]
            )
    return products


def ensure_staff(teams: dict[str, Team]) -> dict[str, User]:
    """One user per role and a few salespeople; passwords are the documented demo ones."""
    hashes = {password: make_password(password) for password in {s.password for s in STAFF}}
    staff = {}
    for spec in STAFF:
        user, _created = User.objects.update_or_create(
            username=spec.username,
            defaults={
                "display_name": spec.display_name,
                "role": spec.role,
                "team": teams[spec.team] if spec.team else None,
                "is_active": True,
                "is_staff": spec.role == "admin",
                "is_superuser": spec.role == "admin",
                "password": hashes[spec.password],
            },
        )
        staff[spec.username] = user
    return staff


def ensure_tags() -> dict[str, Tag]:
    tags = {}
    for group_name, color, tag_names in TAG_GROUPS.values():
        group = TagGroup.objects.get_or_create(name=group_name, defaults={"color": color})[0]
        for name in tag_names:
            tags[name] = Tag.objects.get_or_create(name=name, defaults={"group": group})[0]
    return tags

"""Delete the business records the demo writes (customers and their history), keeping users,
stores, channels, products and tags, which the demo reuses."""

from django.db import connection, transaction

from kehu.commerce.models import Order, OrderLine, Refund
from kehu.customers.models import Customer, CustomerMerge, OwnershipChange
from kehu.engagement.models import Interaction
from kehu.loyalty.models import (
    Coupon,
    GroupDeal,
    GroupParticipant,
    Membership,
    MembershipPause,
    PointsEntry,
    Redemption,
    Referral,
    TierChange,
)

# Children first. Plain DELETEs: the ORM's cascade collector would load millions of ids.
BULK_TABLES = (
    # the loyalty programme's records of customers and orders (its settings, tiers, gifts and
    # coupon templates stay)
    Redemption,
    PointsEntry,
    TierChange,
    MembershipPause,
    Coupon,
    Referral,
    GroupParticipant,
    GroupDeal,
    Membership,
    Refund,
    OrderLine,
    Order,
    Interaction,
    OwnershipChange,
    CustomerMerge,
    Customer.tags.through,
)


def delete_business_records() -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            for model in BULK_TABLES:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608  # nosec B608  # table and column names from the models, values are parameters
        # Through the ORM, so records other apps keep about customers go with them.
        Customer.objects.all().delete()

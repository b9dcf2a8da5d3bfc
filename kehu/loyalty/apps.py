from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "kehu.loyalty"
    verbose_name = _("Loyalty")

    def ready(self) -> None:
        from kehu.accounts.permissions import register_rule
        from kehu.customers.merging import register_merge_handler
        from kehu.loyalty.approvals.services import may_decide

        register_rule("approval.decide", may_decide)
        from kehu.loyalty import customer_creation, customer_panels
        from kehu.loyalty.merging import membership_snapshot, merge_loyalty

        register_merge_handler(
            "loyalty",
            merge_loyalty,
            moves=[
                "loyalty.Membership.customer",
                "loyalty.Coupon.customer",
                "loyalty.GroupDeal.leader",
                "loyalty.GroupParticipant.customer",
                "loyalty.Referral.referee",
                "loyalty.ApprovalRequest.customer",
            ],
            snapshot=membership_snapshot,
            snapshot_key="membership",
        )
        customer_panels.register()
        customer_creation.register()
        from kehu.loyalty import event_handlers  # noqa: F401  (registers the handlers)

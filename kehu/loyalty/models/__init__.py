"""The loyalty programme's records, one module per part: members and tiers, the points ledger,
coupons, referrals and group deals."""

from kehu.loyalty.approvals.models import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    StaffLimit,
)
from kehu.loyalty.coupons.models import (
    Coupon,
    CouponIssueBatch,
    CouponKind,
    CouponStatus,
    CouponTemplate,
    IssueBatchStatus,
    ValidityKind,
)
from kehu.loyalty.groupbuy.models import GroupDeal, GroupDealStatus, GroupParticipant, GroupRole
from kehu.loyalty.members.models import (
    EnrolmentChannel,
    LoyaltySettings,
    Membership,
    MembershipPause,
    MembershipStatus,
    Tier,
    TierBasis,
    TierChange,
    TierChangeReason,
)
from kehu.loyalty.points.models import (
    EarningRule,
    PointsEntry,
    PointsKind,
    PointsSource,
    Redemption,
    RedemptionItem,
)
from kehu.loyalty.referrals.models import Referral, ReferralStatus

__all__ = [
    "ApprovalKind",
    "ApprovalRequest",
    "ApprovalStatus",
    "Coupon",
    "CouponIssueBatch",
    "CouponKind",
    "CouponStatus",
    "CouponTemplate",
    "EarningRule",
    "EnrolmentChannel",
    "GroupDeal",
    "GroupDealStatus",
    "GroupParticipant",
    "GroupRole",
    "IssueBatchStatus",
    "LoyaltySettings",
    "Membership",
    "MembershipPause",
    "MembershipStatus",
    "PointsEntry",
    "PointsKind",
    "PointsSource",
    "Redemption",
    "RedemptionItem",
    "Referral",
    "ReferralStatus",
    "StaffLimit",
    "Tier",
    "TierBasis",
    "TierChange",
    "TierChangeReason",
    "ValidityKind",
]

"""The customer archive (客户档案): identity, contact, profile, tags, custom attributes, merges."""

from collections.abc import Callable, Iterator
from typing import Any, Self

from django.conf import settings
from django.db import models
from django.db.models.query import ModelIterable
from django.utils.translation import gettext_lazy as _

# The contact fields masked for a user who may not see them (kehu.customers.queries.mask_for).
CONTACT_FIELDS = ("mobile", "email", "wechat_id", "wecom_id", "address")


class MaskedCustomerWrite(RuntimeError):
    """Saving a customer read masked would write the masks over the real contact details."""


class MaskingIterable(ModelIterable):  # type: ignore[type-arg]
    """Rows as the queryset's viewer may see them: each customer masked as it is read."""

    def __iter__(self) -> Iterator[Any]:
        queryset: CustomerQuerySet = self.queryset  # type: ignore[assignment]
        for customer in super().__iter__():
            queryset.masker(queryset.viewer, customer)  # type: ignore[misc]
            yield customer


class CustomerQuerySet(models.QuerySet["Customer"]):
    """Customers; `seen_by(user, mask)` makes every row read come out masked for `user` (what
    kehu.customers.queries.visible_customers returns), so no page can forget to mask."""

    viewer: Any = None
    masker: Callable[[Any, "Customer"], None] | None = None

    def seen_by(self, user: Any, mask: Callable[[Any, "Customer"], None]) -> Self:
        clone = self._chain()  # type: ignore[attr-defined]
        clone.viewer, clone.masker = user, mask
        clone._iterable_class = MaskingIterable
        return clone  # type: ignore[no-any-return]

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone.viewer, clone.masker = self.viewer, self.masker
        return clone  # type: ignore[no-any-return]


class Gender(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class IncomeBand(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    LOW = "low", _("Under ¥5,000 a month")
    MIDDLE = "middle", _("¥5,000–15,000 a month")
    HIGH = "high", _("¥15,000–30,000 a month")
    VERY_HIGH = "very_high", _("Over ¥30,000 a month")


class SourceChannel(models.TextChoices):
    STORE = "store", _("In store")
    ONLINE = "online", _("Online")
    GROUP_BUY = "group_buy", _("Group buy")
    COMMUNITY = "community", _("Community")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event")
    OTHER = "other", _("Other")


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    BLOCKED = "blocked", _("Blocked")


class TagGroup(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=7, default="#2563eb")

    class Meta:
        verbose_name = _("tag group")
        verbose_name_plural = _("tag groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    group = models.ForeignKey(
        TagGroup,
        verbose_name=_("tag group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tags",
    )
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AttributeType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Choice")


class CustomAttribute(models.Model):
    """A field the business adds to every customer; values live in Customer.custom_attributes."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=10, choices=AttributeType.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    is_required = models.BooleanField(_("required"), default=False)

    class Meta:
        verbose_name = _("custom attribute")
        verbose_name_plural = _("custom attributes")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.label


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=100, db_index=True)
    gender = models.CharField(
        _("gender"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    wecom_id = models.CharField(_("WeCom ID"), max_length=64, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True, db_index=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    occupation = models.CharField(_("occupation"), max_length=50, blank=True)
    income_band = models.CharField(
        _("income band"), max_length=10, choices=IncomeBand.choices, blank=True, default=""
    )
    interests = models.JSONField(_("interests"), default=list, blank=True)
    source_channel = models.CharField(
        _("source channel"),
        max_length=20,
        choices=SourceChannel.choices,
        default=SourceChannel.STORE,
    )
    home_store = models.ForeignKey(
        "commerce.Store",
        verbose_name=_("home store"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
    )
    member_number = models.CharField(
        _("member number"), max_length=32, unique=True, null=True, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
        help_text=_("Empty means the customer is in the customer pool."),
    )
    owned_since = models.DateTimeField(_("owned since"), null=True, blank=True)
    last_followed_up_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE
    )
    notes = models.TextField(_("notes"), blank=True)
    custom_attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CustomerQuerySet.as_manager()

    # Set by queries.mask_for for the user looking: the contact details they may see (on a
    # masked row the contact fields themselves hold the masks too).
    display_mobile: str
    display_email: str
    display_wechat_id: str
    display_wecom_id: str
    display_address: str
    contact_is_masked: bool

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["name", "birthday"]),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse to write a row read masked over the real contact details (saving only other
        fields, `update_fields` without them, is fine)."""
        if getattr(self, "contact_is_masked", False):
            fields = kwargs.get("update_fields")
            if fields is None or set(fields) & set(CONTACT_FIELDS):
                raise MaskedCustomerWrite(
                    f"Customer {self.pk} was read with its contact details masked; saving it "
                    "would overwrite them. Read it unmasked or save only other fields."
                )
        super().save(*args, **kwargs)

    @property
    def is_in_pool(self) -> bool:
        return self.owner_id is None


class CustomerMerge(models.Model):
    """What was folded into a kept customer, so a merge can be audited."""

    kept = models.ForeignKey(
        Customer, verbose_name=_("kept customer"), on_delete=models.CASCADE, related_name="merges"
    )
    merged_customer_id = models.BigIntegerField(_("merged customer id"))
    # `kept` follows the records when the kept customer is itself merged later (A → B, then
    # B → C: A's record moves to C); this says which customer A was merged into at the time.
    merged_into_id = models.BigIntegerField(_("merged into customer id"), null=True)
    merged_snapshot = models.JSONField(_("merged record"))
    moved_counts = models.JSONField(_("moved records"), default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.merged_customer_id} → {self.merged_into_id or self.kept_id}"


class OwnershipAction(models.TextChoices):
    ASSIGN = "assign", _("Assigned")
    CLAIM = "claim", _("Claimed from the pool")
    RELEASE = "release", _("Released to the pool")
    TRANSFER = "transfer", _("Transferred")
    AUTO_RETURN = "auto_return", _("Returned to the pool automatically")


class OwnershipChange(models.Model):
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="ownership_changes",
    )
    action = models.CharField(_("action"), max_length=20, choices=OwnershipAction.choices)
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("previous owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    new_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("new owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ownership change")
        verbose_name_plural = _("ownership changes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.action}"

"""Back-office screens for the catalogue: stores (with their staff), channels, categories and
products; and each user's stores on the user's own screen."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kehu.accounts.admin import UserAdmin
from kehu.accounts.models import User
from kehu.commerce.models import Category, Product, SalesChannel, Store


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city", "team", "is_active")
    list_filter = ("city", "is_active")
    search_fields = ("code", "name")
    filter_horizontal = ("staff",)


class StoreMembershipInline(admin.TabularInline):
    """The stores a user works at, on the user's screen (the same rows as a store's staff)."""

    model = Store.staff.through
    extra = 1
    autocomplete_fields = ("store",)
    verbose_name = _("store worked at")
    verbose_name_plural = _("stores worked at")


# accounts sits below commerce and cannot know stores: its user screen gains them here.
admin.site.unregister(User)


@admin.register(User)
class UserWithStoresAdmin(UserAdmin):
    inlines = (*UserAdmin.inlines, StoreMembershipInline)
    # The base class's filters are a tuple of three names to mypy; one more is just as valid.
    list_filter = (*UserAdmin.list_filter, "stores")  # type: ignore[assignment]


@admin.register(SalesChannel)
class SalesChannelAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "parent")
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "category", "price", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("sku", "name")

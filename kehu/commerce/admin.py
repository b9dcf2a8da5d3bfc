"""Back-office screens for the catalogue: stores, channels, categories and products."""

from django.contrib import admin

from kehu.commerce.models import Category, Product, SalesChannel, Store


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city", "team", "is_active")
    list_filter = ("city", "is_active")
    search_fields = ("code", "name")


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

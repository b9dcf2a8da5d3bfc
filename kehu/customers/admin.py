"""Back-office screens for the archive's reference data: tags, tag groups, custom attributes."""

from django import forms
from django.contrib import admin

from kehu.core.forms import WithoutControlCharacters
from kehu.customers.models import CustomAttribute, CustomerMerge, Tag, TagGroup


class NameForm(WithoutControlCharacters, forms.ModelForm):
    """Names typed here go into exports and spreadsheets: no control characters."""


@admin.register(TagGroup)
class TagGroupAdmin(admin.ModelAdmin):
    form = NameForm
    list_display = ("name", "color")
    search_fields = ("name",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    form = NameForm
    list_display = ("name", "group")
    list_filter = ("group",)
    search_fields = ("name",)


@admin.register(CustomAttribute)
class CustomAttributeAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "type", "is_required")
    list_filter = ("type",)


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ("kept", "merged_customer_id", "merged_into_id", "merged_by", "merged_at")
    readonly_fields = ("kept", "merged_customer_id", "merged_snapshot", "moved_counts", "merged_by")
    raw_id_fields = ("kept",)

"""Small template helpers shared by every page: sort links and display of empty values."""

from django import template
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.safestring import SafeString

from kehu.accounts import permissions
from kehu.core.lists import ListFilters

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context: template.Context, action: str, obj: object = None) -> bool:
    """`{% may "segment.edit" segment as can_edit %}`: the page's user may do the action (on
    the record), as kehu.accounts.permissions answers it; buttons the user cannot use are hidden
    with it. An unknown action name raises, as in code."""
    user = context.get("user") or getattr(context.get("request"), "user", None)
    return user is not None and permissions.may(user, action, obj)


@register.simple_tag(takes_context=True)
def sort_link(
    context: template.Context, field: str, label: str, default: str = "-created"
) -> SafeString:
    """A column header that sorts by `field`, flipping direction when already sorted by it.
    The current order is the list's filters' sort (see kehu.core.lists); on a list without
    them, the query string's, with `default` when it names none."""
    request = context["request"]
    filters = context.get("filters")
    current = getattr(filters, "sort", None) if isinstance(filters, ListFilters) else None
    if current is None:
        current = request.GET.get("sort", default)
    target = f"-{field}" if current == field else field
    params: QueryDict = request.GET.copy()
    params["sort"] = target
    params.pop("page", None)
    arrow = "↑" if current == field else "↓" if current == f"-{field}" else ""
    css_class = "sort active" if arrow else "sort"
    return format_html(
        '<a class="{}" href="?{}">{}<span aria-hidden="true">{}</span></a>',
        css_class,
        params.urlencode(),
        label,
        arrow,
    )


@register.filter
def dash(value: object) -> object:
    """Show an em dash for an empty value, so blank cells do not look like missing data."""
    return value if value not in (None, "", [], {}) else "—"

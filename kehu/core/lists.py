"""One list machinery for every list page, its export and the API lists that share its filters.

A list declares its filters as a frozen dataclass whose fields say which query parameter they
read and how (`search`, `text`, `choice`, `record_id`, `yes_no`, `on_date`, `number`, `sort`):

    @dataclass(frozen=True)
    class RuleFilters(ListFilters):
        search: str = search()
        state: str = choice("state", STATES)
        sort: str = sort(RULE_SORTS, default="-created")

`RuleFilters.read(request.GET)` gives the filters and the parameters it could not apply (a
value of the wrong type, an id beyond 64 bits); `warn_of_ignored_filters` tells the user, rather
than showing every row as if it were the filtered ones. `paginate` cuts one page within the
list's page-size bounds, and `list_context` gives the templates in web/partials (filter bar,
sortable column header, pagination, empty state, export link) what they read.
"""

import dataclasses
import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Self
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.api_schemas import INT64_MAX
from kehu.core.text import without_control_characters

LIST_FIELD = "kehu_list_field"
WHOLE_NUMBER = re.compile(r"[+-]?\d+")
# The filters of lists and exports that hold a record's id (a search term may be a long number).
ID_FILTERS = ("owner", "tag", "store", "segment", "tier")
INVALID = "invalid"
OUT_OF_RANGE = "out_of_range"


def numbers_out_of_range(params: Mapping[str, str]) -> list[str]:
    """Names of the id filters holding a whole number no database can store (beyond 64 bits).

    Lists drop such a filter like any malformed one; an export refuses it instead, so that it
    never holds more rows than the user filtered for."""
    return [
        name
        for name in ID_FILTERS
        if WHOLE_NUMBER.fullmatch(text := params.get(name, "").strip())
        and not -INT64_MAX <= int(text) <= INT64_MAX
    ]


def optional_int(value: str | None) -> int | None:
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is None or -INT64_MAX <= number <= INT64_MAX else None


def is_record_id(value: str) -> bool:
    """A positive whole number a database can store as an id."""
    return value.isdigit() and optional_int(value) is not None


# --- the kinds of filter ----------------------------------------------------------------------


class Unreadable(ValueError):
    """A parameter value the field cannot apply; `reason` is INVALID or OUT_OF_RANGE."""

    def __init__(self, reason: str = INVALID) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Field:
    """How one filter reads its query parameter, and how it is written back into a link."""

    param: str
    default: Any = ""
    label: Any = ""
    placeholder: Any = ""
    empty_label: Any = None
    options: tuple[tuple[str, Any], ...] = ()
    kind: ClassVar[str] = "text"

    def read(self, raw: str) -> Any:
        """The value of a non-empty parameter; raises Unreadable when it cannot be applied."""
        return raw

    def widget(self) -> str:
        """The filter bar's input: "text", "search", "select", "date", "number" or "hidden"."""
        return self.kind

    def write(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "1" if value else "0"
        return str(value)


@dataclasses.dataclass(frozen=True)
class Text(Field):
    max_length: int = 100
    kind: ClassVar[str] = "text"

    def read(self, raw: str) -> str:
        # A NUL or other control character can only be a mistake or an attack (and PostgreSQL
        # refuses a NUL in a query): it goes, as it does from every form.
        return without_control_characters(raw, multiline=False).strip()[: self.max_length]

    def widget(self) -> str:
        return "select" if self.options else self.kind


@dataclasses.dataclass(frozen=True)
class Choice(Field):
    """One of a fixed set of values (or of `accepts`, for open sets like "me or a user id")."""

    values: tuple[str, ...] = ()
    accepts: Callable[[str], bool] | None = None
    kind: ClassVar[str] = "select"

    def read(self, raw: str) -> str:
        value = raw.strip()
        if value in self.values or (self.accepts is not None and self.accepts(value)):
            return value
        raise Unreadable


@dataclasses.dataclass(frozen=True)
class Search(Text):
    kind: ClassVar[str] = "search"


@dataclasses.dataclass(frozen=True)
class RecordId(Field):
    default: Any = None
    kind: ClassVar[str] = "select"

    def read(self, raw: str) -> int:
        if WHOLE_NUMBER.fullmatch(raw.strip()) is None:
            raise Unreadable
        number = int(raw)
        if not -INT64_MAX <= number <= INT64_MAX:
            raise Unreadable(OUT_OF_RANGE)
        return number


@dataclasses.dataclass(frozen=True)
class YesNo(Field):
    default: Any = None
    kind: ClassVar[str] = "select"

    def read(self, raw: str) -> bool:
        try:
            return {"1": True, "0": False}[raw]
        except KeyError:
            raise Unreadable from None


@dataclasses.dataclass(frozen=True)
class OnDate(Field):
    default: Any = None
    kind: ClassVar[str] = "date"

    def read(self, raw: str) -> datetime.date:
        try:
            return datetime.date.fromisoformat(raw.strip())
        except ValueError:
            raise Unreadable from None


@dataclasses.dataclass(frozen=True)
class Number(Field):
    default: Any = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    kind: ClassVar[str] = "number"

    def read(self, raw: str) -> Decimal:
        try:
            number = Decimal(raw.strip())
        except InvalidOperation:
            raise Unreadable from None
        if not number.is_finite():
            raise Unreadable
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise Unreadable(OUT_OF_RANGE)
        return number


@dataclasses.dataclass(frozen=True)
class Sort(Field):
    """A whitelisted sort key; with `both_directions`, each key also sorts descending ("-key")."""

    keys: tuple[str, ...] = ()
    both_directions: bool = False
    kind: ClassVar[str] = "sort"

    def read(self, raw: str) -> str:
        key = raw.removeprefix("-") if self.both_directions else raw
        if key in self.keys:
            return raw
        raise Unreadable


# --- declaring a list's filters ---------------------------------------------------------------


def declare(field: Field) -> Any:
    return dataclasses.field(default=field.default, metadata={LIST_FIELD: field})


ANY = gettext_lazy("Any")


def search(param: str = "q", max_length: int = 100, placeholder: Any = "") -> Any:
    label = gettext_lazy("Search")
    return declare(Search(param, label=label, placeholder=placeholder, max_length=max_length))


def text(
    param: str,
    max_length: int,
    label: Any = "",
    placeholder: Any = "",
    options: Iterable[Any] | Mapping[Any, Any] = (),
    empty_label: Any = ANY,
) -> Any:
    """Free text; with `options`, offered as a select (any other value still filters)."""
    return declare(
        Text(
            param,
            label=label,
            placeholder=placeholder,
            max_length=max_length,
            options=labelled_options(options),
            empty_label=empty_label,
        )
    )


def choice(
    param: str,
    values: Iterable[Any] | Mapping[Any, Any],
    default: str = "",
    label: Any = "",
    empty_label: Any = ANY,
    accepts: Callable[[str], bool] | None = None,
) -> Any:
    """One of `values`: a mapping or (value, label) pairs give the filter bar its options; a
    plain list of values (options given by the view) does not. An empty option is offered with
    `empty_label` unless the values have one of their own, or the default is not empty."""
    options = labelled_options(values)
    keys = tuple(value for value, _label in options) if options else tuple(map(str, values))
    if "" in keys or default != "":
        empty_label = None
    return declare(
        Choice(
            param,
            default=default,
            label=label,
            empty_label=empty_label,
            options=options,
            values=keys,
            accepts=accepts,
        )
    )


def labelled_options(values: Iterable[Any] | Mapping[Any, Any]) -> tuple[tuple[str, Any], ...]:
    if isinstance(values, Mapping):
        return tuple((str(value), label) for value, label in values.items())
    pairs = list(values)
    if pairs and all(isinstance(pair, tuple | list) and len(pair) == 2 for pair in pairs):
        return tuple((str(value), label) for value, label in pairs)
    return ()


def record_id(param: str, label: Any = "", empty_label: Any = ANY) -> Any:
    return declare(RecordId(param, label=label, empty_label=empty_label))


def yes_no(param: str, label: Any = "", yes: Any = "", no: Any = "", empty_label: Any = ANY) -> Any:
    options = (("1", yes), ("0", no))
    return declare(YesNo(param, label=label, empty_label=empty_label, options=options))


def on_date(param: str, label: Any = "") -> Any:
    return declare(OnDate(param, label=label))


def number(param: str, minimum: Any = None, maximum: Any = None, label: Any = "") -> Any:
    low = None if minimum is None else Decimal(minimum)
    high = None if maximum is None else Decimal(maximum)
    return declare(Number(param, label=label, minimum=low, maximum=high))


def sort(keys: Iterable[str], default: str, both_directions: bool = False) -> Any:
    return declare(Sort("sort", default=default, keys=tuple(keys), both_directions=both_directions))


def options_of(objects: Iterable[Any], label: Callable[[Any], Any] = str) -> list[tuple[str, Any]]:
    """Records as filter-bar options: their id and how they read."""
    return [(str(item.pk), label(item)) for item in objects]


@dataclasses.dataclass(frozen=True)
class Control:
    """One input of the filter bar (web/partials/filter_bar.html), with its current value."""

    param: str
    kind: str
    label: Any
    value: str
    placeholder: Any = ""
    empty_label: Any = None
    options: Iterable[tuple[str, Any]] = ()


@dataclasses.dataclass(frozen=True)
class Ignored:
    """A parameter the list did not apply, and why (INVALID or OUT_OF_RANGE)."""

    param: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Reading[F]:
    filters: F
    ignored: list[Ignored]


class ListFilters:
    """Base of a list's filters: a frozen dataclass whose fields are declared as above."""

    @classmethod
    def list_fields(cls) -> dict[str, Field]:
        return {
            field.name: field.metadata[LIST_FIELD]
            for field in dataclasses.fields(cls)  # type: ignore[arg-type]
            if LIST_FIELD in field.metadata
        }

    @classmethod
    def read(cls, params: Mapping[str, str]) -> Reading[Self]:
        """The filters in `params`; a value that cannot be applied leaves its filter at the
        default and is named in `ignored`."""
        values: dict[str, Any] = {}
        ignored = []
        for name, field in cls.list_fields().items():
            raw = params.get(field.param, "")
            if not isinstance(raw, str) or raw.strip() == "":
                continue
            try:
                values[name] = field.read(raw)
            except Unreadable as problem:
                ignored.append(Ignored(field.param, problem.reason))
        return Reading(cls(**values), ignored)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Self:
        return cls.read(params).filters

    @property
    def is_filtered(self) -> bool:
        """Whether any filter other than the sort differs from its default."""
        return any(
            getattr(self, name) != field.default
            for name, field in self.list_fields().items()
            if not isinstance(field, Sort)
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """The filters as query parameters, defaults left out; `changes` by attribute name."""
        current = dataclasses.replace(self, **changes) if changes else self  # type: ignore[type-var]
        written = {}
        for name, field in self.list_fields().items():
            value = getattr(current, name)
            if value != field.default and (text_value := field.write(value)):
                written[field.param] = text_value
        return written

    def controls(
        self,
        options: Mapping[str, Iterable[tuple[str, Any]]] | None = None,
        hide: Iterable[str] = (),
    ) -> list[Control]:
        """The filter bar's inputs, in declaration order; `options` by parameter for filters
        whose choices the view knows (owners, tags, stores …); `hide` leaves some out (their
        value still travels as a hidden input, like the sort)."""
        options = options or {}
        hidden = set(hide)
        controls = []
        for name, field in self.list_fields().items():
            value = getattr(self, name)
            written = field.write(value) if value is not None else ""
            kind = "hidden" if isinstance(field, Sort) or field.param in hidden else field.widget()
            if kind == "text" and field.param in options:
                kind = "select"
            choices = list(options.get(field.param, ())) or list(field.options)
            controls.append(
                Control(
                    field.param,
                    kind,
                    field.label,
                    written,
                    field.placeholder,
                    field.empty_label,
                    [(str(key), label) for key, label in choices],
                )
            )
        return controls

    def query(self, **changes: Any) -> str:
        """The filters as a query string, to link to the same list (sorted, exported, …)."""
        return urlencode(self.params(**changes))


# --- pages and warnings -----------------------------------------------------------------------

PAGE_SIZE = 25
MIN_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


def page_size_of(
    params: Mapping[str, str],
    default: int = PAGE_SIZE,
    minimum: int = MIN_PAGE_SIZE,
    maximum: int = MAX_PAGE_SIZE,
) -> int:
    """The `size` asked for, held within the list's bounds; the default when there is none."""
    asked = optional_int(params.get("size"))
    if asked is None:
        return default
    return min(max(asked, minimum), maximum)


def paginate(
    request: HttpRequest,
    items: Any,
    size: int | None = None,
    maximum: int = MAX_PAGE_SIZE,
) -> Page:
    """One page of `items`: `?page=` (a bad or too-high number gives the nearest page) of
    `size` rows (default: `?size=` within 10…`maximum`, else 25)."""
    if size is None:
        size = page_size_of(request.GET, maximum=maximum)
    return Paginator(items, size).get_page(request.GET.get("page"))


def warn_of_ignored_filters(request: HttpRequest, ignored: Iterable[Ignored] | None = None) -> None:
    """Say which filters the list did not apply, rather than show the unfiltered rows as if
    they were the filtered ones. Without `ignored`, the id filters beyond 64 bits in the query."""
    if ignored is None:
        ignored = [Ignored(name, OUT_OF_RANGE) for name in numbers_out_of_range(request.GET)]
    for problem in ignored:
        messages.warning(request, ignored_message(problem) % {"name": problem.param})


def ignored_message(problem: Ignored) -> str:
    if problem.reason == OUT_OF_RANGE and problem.param in ID_FILTERS:
        return _("The filter “%(name)s” is not a number kehu can store, so it was not applied.")
    if problem.reason == OUT_OF_RANGE:
        return _("The filter “%(name)s” is out of range, so it was not applied.")
    return _("The filter “%(name)s” has a value kehu does not understand, so it was not applied.")


def read_list(request: HttpRequest, filters_class: type[ListFilters], warn: bool = True) -> Any:
    """The filters of the request's query, warning of those not applied."""
    reading = filters_class.read(request.GET)
    if warn:
        warn_of_ignored_filters(request, reading.ignored)
    return reading.filters


def list_context(
    page: Page,
    filters: ListFilters,
    options: Mapping[str, Iterable[tuple[str, Any]]] | None = None,
    hide: Iterable[str] = (),
    **extra: Any,
) -> dict[str, Any]:
    """What the list partials read: the page, the filters and the filter bar's inputs (see
    `ListFilters.controls`), whether any filter applies, and the filters as a query string (for
    sort links, export links and coming back after an action)."""
    return {
        "page": page,
        "filters": filters,
        "filter_controls": filters.controls(options, hide),
        "is_filtered": filters.is_filtered,
        "filter_query": filters.query(),
        **extra,
    }

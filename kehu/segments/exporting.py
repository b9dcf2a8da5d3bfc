"""A segment's members as an export: the customer export's columns, masked, visible members only.

The download view (the segment pages) streams it with `kehu.core.exports.export_response`::

    headers, rows = export_segment_rows(request.user, segment)
    return export_response(request, f"segment-{segment.pk}", lambda: headers, rows)
"""

from collections.abc import Iterator
from typing import Any

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.customers.exporting import CUSTOMER_COLUMNS, EXPORT_CHUNK, customer_export_headers
from kehu.segments.models import Segment
from kehu.segments.queries import segment_members


def segment_export_rows(user: User, segment: Segment) -> Iterator[list[Any]]:
    """The members the user may see, one masked row at a time, in bounded memory."""
    members = segment_members(user, segment).prefetch_related("tags")
    for customer in members.iterator(chunk_size=EXPORT_CHUNK):
        yield [value(customer) for _header, value in CUSTOMER_COLUMNS]


def export_segment_rows(user: User, segment: Segment) -> tuple[list[str], Iterator[list[Any]]]:
    """Headers and rows of the segment's export; NotAllowed for roles that may not export."""
    require(user, "data.export")
    return customer_export_headers(), segment_export_rows(user, segment)

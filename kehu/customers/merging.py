"""What other apps do when two customers are merged.

``merge_customers`` knows only the customers app; every app whose records point at a customer
registers a handler here from its ``AppConfig.ready()``. Inside the merge's transaction, before
the merged customer is deleted, each handler moves its records to the kept customer and answers
how many moved (for ``CustomerMerge.moved_counts``); raising rolls the whole merge back.

A handler declares the fields pointing at ``customers.Customer`` that it looks after: ``moves``
(the records follow the kept customer) and ``drops`` (records deleted with the merged customer on
purpose, each with the reason). A test checks that every such field of every installed app is
declared, so a new foreign key to the customer cannot be forgotten by the merge.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kehu.accounts.models import User
from kehu.customers.models import Customer

type MoveRecords = Callable[[Customer, Customer, User | None], Mapping[str, int]]
type Snapshot = Callable[[Customer], Any]


@dataclass(frozen=True)
class MergeHandler:
    """One app's part of a merge. ``move(kept, merged, actor)`` answers the moved counts;
    ``snapshot(merged)``, taken before anything moves, is kept in the merge's record under
    ``snapshot_key`` (when it answers something other than None)."""

    key: str
    move: MoveRecords
    moves: tuple[str, ...] = ()
    drops: Mapping[str, str] = field(default_factory=dict)
    snapshot: Snapshot | None = None
    snapshot_key: str = ""


_handlers: dict[str, MergeHandler] = {}


def register_merge_handler(
    key: str,
    move: MoveRecords,
    *,
    moves: Iterable[str] = (),
    drops: Mapping[str, str] | None = None,
    snapshot: Snapshot | None = None,
    snapshot_key: str = "",
) -> MergeHandler:
    """Register (or replace, under the same key) an app's merge handler. Fields are named
    ``app_label.Model.field``; handlers run in the order they were first registered (the
    order of ``INSTALLED_APPS``)."""
    handler = MergeHandler(
        key=key,
        move=move,
        moves=tuple(moves),
        drops=dict(drops or {}),
        snapshot=snapshot,
        snapshot_key=snapshot_key or key,
    )
    _handlers[key] = handler
    return handler


def unregister_merge_handler(key: str) -> MergeHandler | None:
    return _handlers.pop(key, None)


def merge_handlers() -> list[MergeHandler]:
    return list(_handlers.values())


def declared_fields() -> dict[str, str]:
    """Every field a handler looks after, with the key of the handler that declares it."""
    declared: dict[str, str] = {}
    for handler in _handlers.values():
        for name in (*handler.moves, *handler.drops):
            declared[name] = handler.key
    return declared


def merge_snapshots(merged: Customer) -> dict[str, Any]:
    """What the handlers keep of the merged customer's records in the merge's record."""
    snapshots: dict[str, Any] = {}
    for handler in _handlers.values():
        if handler.snapshot is None:
            continue
        value = handler.snapshot(merged)
        if value is not None:
            snapshots[handler.snapshot_key] = value
    return snapshots


def run_merge_handlers(kept: Customer, merged: Customer, actor: User | None) -> dict[str, int]:
    moved: dict[str, int] = {}
    for handler in _handlers.values():
        moved.update(handler.move(kept, merged, actor))
    return moved

"""`kehu rfm`: RFM scores and segments of every customer in a CSV or Parquet transactions file.

No database is touched: the file is read by DuckDB through kehu.analytics. The as-of date
defaults to the day after the latest transaction date among the rows used.
"""

import datetime
import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kehu.analytics import (
    MissingColumnError,
    TransactionDataError,
    TransactionFile,
    UnreadableValueError,
    rfm_from_file,
)

OUTPUT_SUFFIXES = (".csv", ".parquet")


class Command(BaseCommand):
    help = (
        "RFM summary, scores and segment of every customer in a CSV or Parquet transactions "
        "file, written as CSV (stdout by default) or Parquet. No database is used."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--transactions", required=True, help="CSV or Parquet file.")
        parser.add_argument("--customer-column", required=True)
        parser.add_argument("--order-column", required=True)
        parser.add_argument("--date-column", required=True)
        parser.add_argument("--amount-column", help="Amount of each row.")
        parser.add_argument("--quantity-column", help="With --price-column: amount = Q × P.")
        parser.add_argument("--price-column", help="With --quantity-column: amount = Q × P.")
        parser.add_argument(
            "--exclude-orders-starting-with",
            action="append",
            default=[],
            metavar="PREFIX",
            help="Leave out orders whose id starts with PREFIX (e.g. C for cancellations). "
            "May be repeated.",
        )
        parser.add_argument(
            "--date-format",
            help='strptime format, e.g. "%%d/%%m/%%Y %%H:%%M"; ISO dates need none.',
        )
        parser.add_argument(
            "--as-of",
            help="YYYY-MM-DD; default: the day after the latest transaction date in the file.",
        )
        parser.add_argument(
            "--output", help="Output .csv or .parquet file; CSV on stdout if omitted."
        )

    def handle(self, *args, **options):
        output = Path(options["output"]) if options["output"] else None
        if output is not None and output.suffix.lower() not in OUTPUT_SUFFIXES:
            raise CommandError(_("The output file must end in .csv or .parquet: %s") % output)
        source = self.transaction_file(options)
        try:
            result = rfm_from_file(source, as_of=parse_as_of(options["as_of"]))
        except TransactionDataError as error:
            raise CommandError(describe_error(error, source)) from error
        write_table(result.customers, output, self.stdout)
        self.report(result, output)

    def transaction_file(self, options) -> TransactionFile:
        try:
            return TransactionFile(
                path=Path(options["transactions"]),
                customer_column=options["customer_column"],
                order_column=options["order_column"],
                date_column=options["date_column"],
                amount_column=options["amount_column"],
                quantity_column=options["quantity_column"],
                price_column=options["price_column"],
                exclude_order_prefixes=tuple(options["exclude_orders_starting_with"]),
                date_format=options["date_format"],
            )
        except TransactionDataError as error:
            raise CommandError(
                _("Give either --amount-column or both --quantity-column and --price-column.")
            ) from error

    def report(self, result, output: Path | None) -> None:
        """Counts go to stderr so that stdout stays a clean CSV."""
        if result.excluded_order_rows:
            self.stderr.write(
                _("Left out %(count)d rows of excluded orders.")
                % {"count": result.excluded_order_rows}
            )
        if result.skipped_without_customer:
            self.stderr.write(
                _("Skipped %(count)d rows without a customer id.")
                % {"count": result.skipped_without_customer}
            )
        if output is not None:
            self.stderr.write(
                _("Wrote %(count)d customers (as of %(as_of)s) to %(path)s.")
                % {
                    "count": result.customers.num_rows,
                    "as_of": result.as_of.isoformat(),
                    "path": output,
                }
            )


def parse_as_of(text: str | None) -> datetime.date | None:
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(_("--as-of must be a date like 2024-03-31, not %r.") % text) from error


def describe_error(error: TransactionDataError, source: TransactionFile) -> str:
    if isinstance(error, MissingColumnError):
        return _("Column %(column)r is not in %(path)s. Available columns: %(available)s.") % {
            "column": error.column,
            "path": source.path,
            "available": ", ".join(error.available),
        }
    if isinstance(error, UnreadableValueError):
        value = _("an empty value") if error.value is None else repr(error.value)
        if error.kind == "date":
            message = _("Could not read %(value)s in column %(column)r as a date.")
            if source.date_format is None:
                message += " " + _("Use --date-format for dates that are not YYYY-MM-DD.")
        else:
            message = _("Could not read %(value)s in column %(column)r as a number.")
        return message % {"value": value, "column": error.column}
    if not source.path.is_file():
        return _("Transactions file not found: %s") % source.path
    if source.path.suffix.lower() not in (".csv", ".parquet", ".pq"):
        return _("The transactions file must be .csv or .parquet: %s") % source.path
    return str(error)


def write_table(table, output: Path | None, stdout) -> None:
    import pyarrow.compute
    import pyarrow.csv
    import pyarrow.parquet

    # Float sums carry noise like 4309.999999999997; six decimals is exact for any currency.
    position = table.schema.get_field_index("monetary")
    table = table.set_column(position, "monetary", pyarrow.compute.round(table["monetary"], 6))
    if output is not None and output.suffix.lower() == ".parquet":
        pyarrow.parquet.write_table(table, output)
        return
    if output is not None:
        pyarrow.csv.write_csv(table, output)
        return
    buffer = io.BytesIO()
    pyarrow.csv.write_csv(table, buffer)
    stdout.write(buffer.getvalue().decode(), ending="")

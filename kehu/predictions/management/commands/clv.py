"""`kehu clv fit|predict`: fit BG/NBD, Pareto/NBD or Gamma-Gamma on a transactions file.

No database is touched: kehu.analytics reads the CSV or Parquet file with DuckDB, builds the
calibration summary (purchase days up to --calibration-end, in days or weeks) and fits the model.
`fit` prints the parameters; `predict` also writes per-customer predictions to a file.

The predictions kehu stores for its own customers are refreshed by the nightly job and by
`kehu segments refresh` (kehu.predictions.refresh), not by this command.
"""

import datetime
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kehu.analytics import (
    BetaGeoModel,
    GammaGammaModel,
    MissingColumnError,
    ParetoNBDModel,
    TransactionDataError,
    UnreadableValueError,
    calibration_summary_from_file,
    customer_lifetime_value,
)

TRANSACTION_MODELS = {"bgnbd": BetaGeoModel, "paretonbd": ParetoNBDModel}
MODELS = (*TRANSACTION_MODELS, "gammagamma")
OUTPUT_SUFFIXES = (".csv", ".parquet")
# One month in each period, for monthly discounting of the CLV (lifetimes' convention).
MONTH_IN_PERIODS = {"day": 30.0, "week": 4.345}


class Command(BaseCommand):
    help = (
        "Fit a customer-lifetime-value model (BG/NBD, Pareto/NBD or Gamma-Gamma) on a CSV or "
        "Parquet transactions file, and optionally write per-customer predictions."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        fit = actions.add_parser("fit", help="Fit a model and print its parameters.")
        add_common_arguments(fit)
        fit.add_argument("--model", choices=MODELS, required=True)
        fit.add_argument("--json", action="store_true", help="Print the result as JSON.")
        predict = actions.add_parser("predict", help="Write per-customer predictions to a file.")
        add_common_arguments(predict)
        predict.add_argument("--model", choices=tuple(TRANSACTION_MODELS), default="bgnbd")
        predict.add_argument("--output", required=True, help="Output .csv or .parquet file.")
        predict.add_argument(
            "--horizon",
            type=float,
            default=None,
            help="Periods ahead for the expected purchases (default: 90 days in periods).",
        )
        predict.add_argument(
            "--months", type=int, default=12, help="CLV horizon in months (default 12)."
        )
        predict.add_argument(
            "--discount-rate",
            type=float,
            default=0.01,
            help="Monthly discount rate of the CLV (default 0.01).",
        )

    def handle(self, *args, **options):
        summary = self.summary(options)
        if options["action"] == "fit":
            self.fit(summary, options)
        else:
            self.predict(summary, options)

    def summary(self, options):
        calibration_end = parse_date(options["calibration_end"], "--calibration-end")
        try:
            return calibration_summary_from_file(
                Path(options["transactions"]),
                calibration_end=calibration_end,
                period=options["period"],
                customer_column=options["customer_column"],
                date_column=options["date_column"],
                date_format=options["date_format"],
                amount_column=options["amount_column"],
            )
        except TransactionDataError as error:
            raise CommandError(describe_error(error)) from error

    def fit(self, summary, options):
        name = options["model"]
        if name == "gammagamma" and options["amount_column"] is None:
            raise CommandError(_("The Gamma-Gamma model needs --amount-column."))
        model = fit_model(name, summary)
        result = {
            "model": name,
            "params": model.params_,
            "standard_errors": model.standard_errors_,
            "log_likelihood": model.log_likelihood_,
            "n_customers": model.n_customers_,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(
            _("%(model)s fitted on %(count)d customers, log-likelihood %(value).2f")
            % {"model": name, "count": model.n_customers_, "value": model.log_likelihood_}
        )
        for parameter, value in model.params_.items():
            error = model.standard_errors_[parameter]
            self.stdout.write(f"  {parameter} = {value:.6g} (± {error:.3g})")

    def predict(self, summary, options):
        output = Path(options["output"])
        if output.suffix.lower() not in OUTPUT_SUFFIXES:
            raise CommandError(_("The output file must end in .csv or .parquet: %s") % output)
        table = predictions(summary, options)
        write_table(table, output)
        self.stderr.write(
            _("Wrote predictions for %(count)d customers to %(path)s.")
            % {"count": table.num_rows, "path": output}
        )


def add_common_arguments(parser):
    parser.add_argument("--transactions", required=True, help="CSV or Parquet file.")
    parser.add_argument("--customer-column", required=True)
    parser.add_argument("--date-column", required=True)
    parser.add_argument(
        "--date-format", help='strptime format, e.g. "%%Y%%m%%d"; ISO dates need none.'
    )
    parser.add_argument("--amount-column", help="Amount of each row (needed for spend and CLV).")
    parser.add_argument("--calibration-end", required=True, help="YYYY-MM-DD, included.")
    parser.add_argument("--period", choices=("week", "day"), default="week")


def fit_model(name, summary):
    """The fitted model; bad data becomes a CommandError with the library's message."""
    frequency = summary["frequency"].to_numpy()
    try:
        if name == "gammagamma":
            return GammaGammaModel().fit(frequency, summary["monetary_value"].to_numpy())
        return TRANSACTION_MODELS[name]().fit(
            frequency, summary["recency"].to_numpy(), summary["T"].to_numpy()
        )
    except ValueError as error:
        raise CommandError(_("Cannot fit the model: %s") % error) from error


def predictions(summary, options):
    """One row per customer: the summary, P(alive), expected purchases and, with amounts, CLV."""
    import pyarrow as pa

    period = options["period"]
    horizon = options["horizon"] if options["horizon"] is not None else 90 / period_length(period)
    model = fit_model(options["model"], summary)
    x, t_x, age = (summary[name].to_numpy() for name in ("frequency", "recency", "T"))
    columns = {
        "probability_alive": model.probability_alive(x, t_x, age),
        "expected_purchases": model.expected_purchases(horizon, x, t_x, age),
    }
    if options["amount_column"] is not None:
        spend = fit_model("gammagamma", summary)
        average = spend.expected_average_value(x, summary["monetary_value"].to_numpy())
        columns["expected_average_value"] = average
        try:
            columns["clv"] = customer_lifetime_value(
                model,
                x,
                t_x,
                age,
                average,
                steps=options["months"],
                step_length=MONTH_IN_PERIODS[period],
                discount_rate=options["discount_rate"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
    table = summary
    for name, values in columns.items():
        table = table.append_column(name, pa.array(values))
    return table


def period_length(period):
    return 7.0 if period == "week" else 1.0


def write_table(table, output: Path) -> None:
    import pyarrow.csv
    import pyarrow.parquet

    if output.suffix.lower() == ".parquet":
        pyarrow.parquet.write_table(table, output)
    else:
        pyarrow.csv.write_csv(table, output)


def parse_date(text: str, option: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(
            _("%(option)s must be a date like 2024-03-31, not %(value)r.")
            % {"option": option, "value": text}
        ) from error


def describe_error(error: TransactionDataError) -> str:
    if isinstance(error, MissingColumnError):
        return _("Column %(column)r is not in the file. Available columns: %(available)s.") % {
            "column": error.column,
            "available": ", ".join(error.available),
        }
    if isinstance(error, UnreadableValueError):
        value = _("an empty value") if error.value is None else repr(error.value)
        if error.kind == "date":
            message = _("Could not read %(value)s in column %(column)r as a date.")
        else:
            message = _("Could not read %(value)s in column %(column)r as a number.")
        return message % {"value": value, "column": error.column}
    return str(error)

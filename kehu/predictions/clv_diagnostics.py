"""The model diagnostics page: the latest nightly fit of the purchase and spend models, its
parameters with their meaning, the calibration/holdout comparison and the fits before it."""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.predictions.models import PredictionFit, PredictionModel

PAST_FITS = 20
PARAMETER_MEANINGS: dict[str, dict[str, Any]] = {
    PredictionModel.BGNBD: {
        "r": gettext_lazy("purchase rate across customers: shape (gamma)"),
        "alpha": gettext_lazy("purchase rate across customers: scale (gamma)"),
        "a": gettext_lazy("chance of dropping out after a purchase: a (beta)"),
        "b": gettext_lazy("chance of dropping out after a purchase: b (beta)"),
    },
    PredictionModel.PARETONBD: {
        "r": gettext_lazy("purchase rate across customers: shape (gamma)"),
        "alpha": gettext_lazy("purchase rate across customers: scale (gamma)"),
        "s": gettext_lazy("drop-out rate across customers: shape (gamma)"),
        "beta": gettext_lazy("drop-out rate across customers: scale (gamma)"),
    },
    "spend": {
        "p": gettext_lazy("spread of one customer's order values: shape (gamma)"),
        "q": gettext_lazy("average order value across customers: shape (gamma)"),
        "gamma": gettext_lazy("average order value across customers: scale (gamma)"),
    },
}
SYMBOLS = {"alpha": "α", "beta": "β", "gamma": "γ"}


@dataclass(frozen=True)
class Parameter:
    name: str
    symbol: str
    meaning: str
    value: float | None
    standard_error: float | None


def describe_parameters(params: Any, meanings: dict[str, Any]) -> list[Parameter]:
    """The stored parameters with their symbol and meaning, in the model's order. A value may
    be stored as a number or as {"value", "standard_error"}; standard errors may also sit in a
    "standard_errors" map beside the values."""
    if not isinstance(params, dict):
        return []
    errors = params.get("standard_errors")
    errors = errors if isinstance(errors, dict) else {}
    names = [name for name in meanings if name in params]
    names += [name for name in params if name not in meanings and name != "standard_errors"]
    return [
        Parameter(
            name=name,
            symbol=SYMBOLS.get(name, name),
            meaning=str(meanings.get(name, "")),
            value=number(params[name], "value"),
            standard_error=number(params[name], "standard_error") or number(errors.get(name)),
        )
        for name in names
    ]


def number(value: Any, key: str | None = None) -> float | None:
    if isinstance(value, dict):
        value = value.get(key or "value")
    elif key == "standard_error":
        return None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class HoldoutRow:
    frequency: int
    customers: int
    actual: float
    predicted: float


def holdout_rows(holdout: Any) -> list[HoldoutRow]:
    """The stored holdout comparison; rows that cannot be read are left out."""
    rows = []
    for row in holdout if isinstance(holdout, list) else []:
        try:
            rows.append(
                HoldoutRow(
                    frequency=int(row["frequency"]),
                    customers=int(row["customers"]),
                    actual=float(row["actual"]),
                    predicted=float(row["predicted"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(rows, key=lambda row: row.frequency)


@dataclass(frozen=True)
class Diagnostics:
    fit: PredictionFit | None
    purchase_parameters: list[Parameter]
    spend_parameters: list[Parameter]
    holdout: list[HoldoutRow]
    past_fits: list[PredictionFit]

    @property
    def has_failed(self) -> bool:
        return self.fit is not None and bool(self.fit.message)


def build_diagnostics() -> Diagnostics:
    """The latest fit in detail and the ones before it (two queries)."""
    fits = list(PredictionFit.objects.order_by("-fitted_at", "-pk")[: PAST_FITS + 1])
    latest = fits[0] if fits else None
    return Diagnostics(
        fit=latest,
        purchase_parameters=describe_parameters(
            latest.purchase_params if latest else {},
            PARAMETER_MEANINGS.get(latest.model if latest else "", {}),
        ),
        spend_parameters=describe_parameters(
            latest.spend_params if latest else {}, PARAMETER_MEANINGS["spend"]
        ),
        holdout=holdout_rows(latest.holdout if latest else []),
        past_fits=fits[1:],
    )


def holdout_chart_data(rows: list[HoldoutRow]) -> dict[str, object]:
    return {
        "frequencies": [str(row.frequency) for row in rows],
        "actual": [round(row.actual, 4) for row in rows],
        "predicted": [round(row.predicted, 4) for row in rows],
        "customers": [row.customers for row in rows],
        "labels": {
            "actual": _("Actual"),
            "predicted": _("Predicted"),
            "frequency": _("Repeat purchases in the calibration period"),
            "purchases": _("Mean repeat purchases in the holdout period"),
            "customers": _("Customers"),
        },
    }

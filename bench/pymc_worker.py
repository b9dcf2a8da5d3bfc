"""pymc-marketing's BG/NBD MAP fit, run by bench_clv with the python of its own environment.

pymc-marketing cannot share kehu's lock (its numba caps numpy below kehu's), so bench_clv
installs it into var/bench-venvs/pymc and runs this module there:
`python -m bench.pymc_worker DATA.npz`, DATA holding the arrays x, t_x and T. Only numpy,
pandas and pymc-marketing are importable here: no kehu, no Django. The timing rule (`timed`) and
the constants come from bench_clv, which imports nothing beyond numpy at module level.

The fit uses flat (HalfFlat) priors, so its MAP is the maximum-likelihood fit the other rows
compute. Reports one `BENCH-RESULT {json}` line: fit and predict seconds, the fitted parameters
and pymc's own log-density there (the parent also evaluates kehu's likelihood function at them).
"""

import sys
from typing import Any

import numpy as np

from bench._workers import report
from bench.bench_clv import BGNBD_NAMES, HORIZON, timed

WARM_CUSTOMERS = 2_000


def customers_frame(x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> Any:
    import pandas

    return pandas.DataFrame(
        {"customer_id": np.arange(len(x)), "frequency": x, "recency": t_x, "T": age}
    )


def fit(data: Any) -> tuple[Any, Any]:
    """Build, compile and fit a new model: pymc-marketing does all three in every fit."""
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel

    model = BetaGeoModel(model_config={name: Prior("HalfFlat") for name in BGNBD_NAMES})
    return model, model.fit(data, method="map", progressbar=False)


def own_log_likelihood(model: Any, params: dict[str, float]) -> float:
    """pymc's log-density at ``params``: with flat priors and no Jacobian, the log-likelihood."""
    log_density = model.model.compile_logp(jacobian=False)
    point = {
        variable.name: np.log(params[variable.name.removesuffix("_log__")])
        for variable in model.model.value_vars
    }
    return float(log_density(point))


def measure(x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> dict[str, Any]:
    # Warm: imports and pytensor's compilation cache, on a small slice, not timed.
    fit(customers_frame(x[:WARM_CUSTOMERS], t_x[:WARM_CUSTOMERS], age[:WARM_CUSTOMERS]))
    data = customers_frame(x, t_x, age)
    fit_seconds, (model, fitted) = timed(lambda: fit(data))
    predict_seconds, _ = timed(
        lambda: (
            model.expected_probability_alive(data),
            model.expected_purchases(data, future_t=HORIZON),
        )
    )
    params = {name: float(fitted.posterior[name].values.ravel()[0]) for name in BGNBD_NAMES}
    return {
        "fit": fit_seconds,
        "predict": predict_seconds,
        "params": params,
        "own_log_likelihood": own_log_likelihood(model, params),
    }


def main() -> None:
    with np.load(sys.argv[1]) as arrays:
        x, t_x, age = arrays["x"], arrays["t_x"], arrays["T"]
    report(measure(x, t_x, age))


if __name__ == "__main__":
    main()

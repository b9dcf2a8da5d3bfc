"""Recommendations on UCI Online Retail, time split: co-purchase recommenders against popularity.

Train on sales up to 2011-09-30, test on 2011-10-01 … 2011-12-09 (cancelled invoices "C…",
rows without CustomerID and non-positive quantities dropped). Customers evaluated are those who
bought at least one item in the test window that they had not bought before; metrics at k = 10.
"""

from pathlib import Path
from typing import Any

import pyarrow as pa

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ONLINE_RETAIL = DATA_DIR / "online_retail.parquet"
SPLIT_DATE = "2011-10-01"
K = 10
COLUMNS = {
    "customer_column": "CustomerID",
    "item_column": "StockCode",
    "basket_column": "InvoiceNo",
}


def load_split() -> tuple[pa.Table, pa.Table]:
    import pyarrow.compute as pc
    import pyarrow.parquet

    table = pyarrow.parquet.read_table(
        ONLINE_RETAIL, columns=["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "CustomerID"]
    )
    is_sale = pc.invert(pc.starts_with(table["InvoiceNo"], "C"))
    table = table.filter(pc.and_(is_sale, pc.is_valid(table["CustomerID"])))
    table = table.filter(pc.greater(table["Quantity"], 0))
    train = table.filter(pc.less(table["InvoiceDate"], SPLIT_DATE))
    test = table.filter(pc.greater_equal(table["InvoiceDate"], SPLIT_DATE))
    return train, test


def models() -> list[tuple[str, Any]]:
    from kehu.analytics import ItemCooccurrenceRecommender, PopularityRecommender

    return [
        ("popularity (all items)", PopularityRecommender(exclude_purchased=False, **COLUMNS)),
        ("popularity (not yet bought)", PopularityRecommender(**COLUMNS)),
        ("co-purchase cosine, baskets (default)", ItemCooccurrenceRecommender(**COLUMNS)),
        (
            "co-purchase cosine, customers",
            ItemCooccurrenceRecommender(cooccurrence="customer", **COLUMNS),
        ),
        (
            "co-purchase lift, baskets",
            ItemCooccurrenceRecommender(similarity="lift", min_support=10, **COLUMNS),
        ),
        (
            "co-purchase, exclude every bought item",
            ItemCooccurrenceRecommender(rebuy_threshold=1.1, **COLUMNS),
        ),
    ]


def main() -> None:
    if not ONLINE_RETAIL.is_file():
        print(f"skipped: {ONLINE_RETAIL} is absent (public data sets sit beside the clone)")
        return
    from kehu.analytics import evaluate_recommendations

    train, test = load_split()
    print(
        f"| model | customers evaluated | hit rate@{K} | precision@{K} | recall@{K} "
        "| fit seconds | predict seconds |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|", flush=True)
    for name, model in models():
        result = evaluate_recommendations(model, train, test, k=K)
        print(
            f"| {name} | {result['customers']:,.0f} | {result['hit_rate']:.4f} "
            f"| {result['precision']:.4f} | {result['recall']:.4f} "
            f"| {result['fit_seconds']:.2f} | {result['predict_seconds']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

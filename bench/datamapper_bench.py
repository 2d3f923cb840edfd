"""Micro-benchmark of the datamapper: time per mapped field and per record.

    .venv/bin/python bench/datamapper_bench.py [records]

Measures ``Mapper.apply`` (the datamapper itself) and, separately, ``to_model``
(apply + pydantic validation).  "Simple field" = one source key, one ``strip``.
"""

from __future__ import annotations

import sys
import time

from apicenter_sync.datamapper import compile_mapping, load_default_mapping


def _timeit(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(5):  # best of 5 runs: the least disturbed by the rest of the machine
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        best = min(best, (time.perf_counter() - start) / rounds)
    return best


def main(records: int = 20000) -> None:
    fields = [f"FIELD_{i:02d}" for i in range(20)]
    row = {name: f"  value {i}  " for i, name in enumerate(fields)}
    simple = compile_mapping(
        {
            "flow": "products",
            "lines": [{"source": "ART_CODE", "target": "sku", "transforms": ["strip"]}]
            + [{"source": f, "target": f"extra.{f}", "transforms": ["strip"]} for f in fields[:19]],
        }
    )
    row["ART_CODE"] = " 100001 "
    per_record = _timeit(lambda: simple.apply(row), records)
    print(f"simple fields : {per_record / 20 * 1e6:6.2f} us per field ({per_record * 1e6:6.1f} us per 20-field record)")

    products = compile_mapping(load_default_mapping("products"))
    article = {
        "ART_CODE": "100001    ", "ART_DESC1": "Koffiebonen 1", "ART_MEMO": "Lange omschrijving", "AG_CODE": "G001",
        "PX_SELL": 12.5, "COST_PX": 6.9, "VAT_CODE": "1 ", "EAN_CODE": "8700000000015", "ART_UNIT": "st",
        "POS_SELL": True, "GROSS_FLG": False, "MODEL_CODE": "", "SIZE_CODE": "", "COLOR_CODE": "",
        "CNT_ORIGIN": "nl", "DEL_DAYS": 2.0,
    }  # fmt: skip
    apply_t = _timeit(lambda: products.apply(article), records)
    model_t = _timeit(lambda: products.to_model(article), records // 2)
    print(f"products      : {apply_t * 1e6:6.1f} us apply, {model_t * 1e6:6.1f} us apply + Article model "
          f"({len(products.targets)} lines)")  # fmt: skip

    customers = compile_mapping(load_default_mapping("customers"))
    contact = {
        "SUB_NR": "10001", "ACCT_NAME": "Bakkerij de Vries B.V.", "MAIN_CONT": "Jan de Vries",
        "MAIL_BUS": "Jan@Example.nl", "TEL_BUS": "0612345678", "ADDRESS1": "Laan van Meerdervoort 1021 bis",
        "POST_CODE": "2517ab", "CITY": "Den Haag", "CNT_CODE": "NL", "VAT_NR": "nl 123456789 b01", "APX_LIST": "MKB",
        "DISC_PCT": 2.5, "DISC_CODE": "14", "LNG_CODE": "NL", "CUR_CODE": "EUR",
    }  # fmt: skip
    apply_t = _timeit(lambda: customers.apply(contact), records)
    print(f"customers     : {apply_t * 1e6:6.1f} us apply ({len(customers.targets)} lines)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)

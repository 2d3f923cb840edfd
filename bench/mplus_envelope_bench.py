"""Building one MplusKASSA request envelope: zeep's object model vs the compiled plans (clients/mplus_envelopes.py).

    .venv/bin/python bench/mplus_envelope_bench.py [repeats]

CPU time per envelope (``time.process_time``, best of ``repeats`` rounds, default 7) for typical writes: an
updateProduct of one article as the products flow sends it, a createRelation, a createOrderV3 of three lines with a
payment, an updateStock. Both builders get the same dict and give the same envelope (checked here before timing);
what ``call`` then does with it (serialising, HTTP) is the same for both and not timed.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime

from lxml import etree

from apicenter_sync.clients import MplusClient
from apicenter_sync.clients.mplus_values import to_wire

ARTICLE = {
    "articleNumber": 100123, "extArticleId": "AV-100123", "pluNumber": "AV-100123",
    "description": "Koffiebonen Espresso Forte 1 kg & <extra> sterk", "receiptText": "Espresso Forte 1kg",
    "invoiceText": "Koffiebonen Espresso Forte 1 kg", "barcode": "8712345678906", "active": True,
    "stockArticle": True, "priceIncl": 1895, "purchasePrice": 912, "vatCode": 2, "articleDiscountGroupNumber": 3,
    "customFieldList": {"customField": [{"fieldName": "herkomst", "strValue": "Brazilië"},
                                        {"fieldName": "biologisch", "boolValue": True}]},
}  # fmt: skip
LINE = {"articleNumber": 100123, "text": "Espresso Forte", "data": {"quantity": 2, "decimalPlaces": 0, "price": 1895,
                                                                    "vatCode": 2, "discountPercentage": 0}}  # fmt: skip
WRITES = {
    "updateProduct": {"product": {"productNumber": 5012, "description": "Koffiebonen Espresso Forte",
                                  "groupNumbers": [12, 40], "articleList": {"article": [ARTICLE]}}},
    "createRelation": {"relation": {
        "extRelationId": "D-20417", "name": "Bakkerij 't Hoekje B.V.", "address": "Dorpsstraat 12",
        "zipcode": "1234 AB", "city": "Utrecht", "country": "NL", "email": "info@hoekje.example",
        "telephone": "030-1234567", "vatNumber": "NL001234567B01", "priceGroupNumber": 2, "active": True}},
    "createOrderV3": {"request": {
        "idempotencyKey": "webshop-order-88412", "applyPriceGroups": True,
        "order": {"orderId": "", "extOrderId": "WS-88412", "relationNumber": 20417, "entryBranchNumber": 1,
                  "entryTimestamp": datetime(2026, 12, 5, 9, 30), "financialDate": datetime(2026, 12, 5).date(),
                  "reference": "Webshop #88412", "vatMethod": "VAT-METHOD-INCLUSIVE",
                  "lineList": {"line": [LINE, {**LINE, "articleNumber": 100124}, {**LINE, "articleNumber": 100125}]}},
        "paymentList": {"payment": [{"method": "IDEAL", "amount": 11370, "externalReference": "tr_8841"}]}}},
    "updateStock": {"request": {"branchNumber": 1, "articleNumber": 100123, "amountChanged": -2, "decimalPlaces": 0,
                                "reference": "Webshop #88412"}},
}  # fmt: skip


def _cpu_us(fn, repeats: int) -> float:
    """Best-of-``repeats`` CPU µs per call; each round runs long enough (≥ 0.2 s) to be measured."""
    loops = 1
    while True:
        start = time.process_time()
        for _ in range(loops):
            fn()
        if time.process_time() - start >= 0.2:
            break
        loops *= 2
    best = min(_round(fn, loops) for _ in range(repeats))
    return best / loops * 1e6


def _round(fn, loops: int) -> float:
    start = time.process_time()
    for _ in range(loops):
        fn()
    return time.process_time() - start


def main(repeats: int = 7) -> None:
    client = MplusClient("http://127.0.0.1:9/", "ident", "secret")  # nothing is sent: only envelopes are built
    # Private hooks on purpose: the benchmark times the two builders `call` chooses between, nothing around them.
    binding, zeep, options, plans = client._binding, client._zeep, client._options, client._envelopes
    print(f"{'operation':<16}{'elements':>9}{'zeep µs':>10}{'plan µs':>10}{'ratio':>8}")
    total_zeep = total_plan = 0.0
    for operation, params in WRITES.items():
        params = to_wire(params)
        ours, _ = plans.build(operation, params, zeep, options)
        theirs, _ = binding._create(operation, (), params, client=zeep, options=options)
        assert etree.tostring(ours, method="c14n") == etree.tostring(theirs, method="c14n"), operation
        zeep_us = _cpu_us(lambda: binding._create(operation, (), params, client=zeep, options=options), repeats)  # noqa: B023
        plan_us = _cpu_us(lambda: plans.build(operation, params, zeep, options), repeats)  # noqa: B023
        total_zeep, total_plan = total_zeep + zeep_us, total_plan + plan_us
        elements = sum(1 for _ in ours.iter())
        print(f"{operation:<16}{elements:>9}{zeep_us:>10.1f}{plan_us:>10.1f}{zeep_us / plan_us:>7.1f}x")
    print(f"{'all four':<16}{'':>9}{total_zeep:>10.1f}{total_plan:>10.1f}{total_zeep / total_plan:>7.1f}x")
    client.close()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))

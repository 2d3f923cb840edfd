"""The sandboxes' indexes answer exactly what a full scan answers (docs/sandboxes.md, "Indexes").

After a random series of creates, updates and deletes, every indexed read is compared with a brute-force reference
computed over the stored data: same rows, same order, same pages. Behaviour only; nothing here times anything.
"""

from __future__ import annotations

import random

import pytest

from apicenter_sandbox.accountview.query import ordered_keys, page_of, parse_query
from apicenter_sandbox.accountview.seed import seed as seed_accountview
from apicenter_sandbox.accountview.store import Store
from apicenter_sandbox.mplus import MplusSandbox
from apicenter_sandbox.mplus.operations import HANDLERS
from apicenter_sandbox.mplus.operations.registry import limited
from apicenter_sandbox.world import generate

# --- AccountView: filtered reads ------------------------------------------------------------------------------------

MODELS = ["", "M1", "m1", "M1  ", "M2", "X-9", " M2"]
GROUPS = ["G001", "G002", "g002 ", "G003"]
DAYS = ["2026-01-05", "2026-01-06", "2026-02-01"]


def _moment(rng: random.Random) -> str:
    return rng.choice(["", f"{rng.choice(DAYS)}T{rng.randint(8, 12):02d}:{rng.choice(['00', '30'])}:00"])


def _article_row(rng: random.Random, code: str) -> dict:
    row = {"ART_CODE": code, "ART_DESC1": f"Artikel {code}"}
    for name, make in (("MODEL_CODE", lambda: rng.choice(MODELS)), ("AG_CODE", lambda: rng.choice(GROUPS)),
                       ("CNG_DATE", lambda: _moment(rng))):  # fmt: skip
        if rng.random() < 0.8:  # rows are sparse: a field left out has its default
            row[name] = make()
    return row


def _mutate(rng: random.Random, table, serial: list[int]) -> None:
    keys = sorted(table.rows)
    op = rng.random()
    if op < 0.35 or not keys:
        serial[0] += 1
        table.insert(_article_row(rng, f"Z{serial[0]:05d}"))
    elif op < 0.7:
        changes = {k: v for k, v in _article_row(rng, "").items() if k not in ("ART_CODE", "ART_DESC1")}
        table.update(rng.choice(keys), changes)
    elif op < 0.8:
        table.delete(rng.choice(keys))
    elif op < 0.9:  # stored directly, as tests do (tests/corpus/corpus_env.py)
        key = rng.choice(keys)
        table.rows[key] = _article_row(rng, key)
    else:
        del table.rows[rng.choice(keys)]


def _reference_match(table, flt: tuple[str, str, str, list[str]], row: dict) -> bool:
    field, operator, value_type, values = flt
    stored = table.value(row, field)
    if operator == "DateOnOrAfterDate":
        if not stored:
            return False
        exact = value_type == "T"  # every value here has a time; a D value type compares the date only
        return any(stored >= v if exact else stored[:10] >= v[:10] for v in values)
    texts = [v.rstrip().lower() for v in values]
    if operator == "Contains":
        return any(t in stored.lower() for t in texts)
    hit = stored.rstrip().lower() in texts
    return not hit if operator == "NotEqual" else hit


def _random_filters(rng: random.Random) -> list[tuple[str, str, str, list[str]]]:
    filters = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        kind = rng.random()
        if kind < 0.45:
            field = rng.choice(["MODEL_CODE", "AG_CODE", "ART_CODE"])
            pool = {"MODEL_CODE": MODELS + ["m2", "none"], "AG_CODE": GROUPS + ["G009"],
                    "ART_CODE": ["100001", "100002 ", "z00003", "Z00004", "AB-0023"]}[field]  # fmt: skip
            filters.append((field, "Equal", "C", rng.sample(pool, rng.randint(1, 3))))
        elif kind < 0.75:
            day, time = rng.choice(DAYS), f"{rng.randint(7, 13):02d}:30:00"
            value_type = rng.choice(["T", "D"])
            filters.append(("CNG_DATE", "DateOnOrAfterDate", value_type, [f"{day}T{time}"]))
        elif kind < 0.9:
            filters.append(("MODEL_CODE", "NotEqual", "C", [rng.choice(MODELS) or "M1"]))
        else:
            filters.append(("ART_DESC1", "Contains", "C", ["artikel z"]))
    return filters


def _params(filters, match_any: bool, sort: str | None, descending: bool, last_key: str | None) -> dict[str, str]:
    params = {"businessobject": "AK1", "pagesize": "7"}
    for n, (field, operator, value_type, values) in enumerate(filters, start=1):
        literal = [f"{{^{v[:10]} {v[11:]}}}" if operator == "DateOnOrAfterDate" else v for v in values]
        params.update({f"filtercontrolsource{n}": field, f"filteroperator{n}": operator,
                       f"filtervaluetype{n}": value_type, f"filtervalue{n}": ",".join(literal),
                       f"filterislistofvalues{n}": "true" if len(values) > 1 else "false"})  # fmt: skip
    if match_any:
        params["matchanyfilter"] = "true"
    if sort:
        params["sortfields"] = sort
    if descending:
        params["sortorder"] = "Descending"
    if last_key is not None:
        params["lastkey"] = last_key
    return params


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_accountview_filtered_reads_equal_a_full_scan(seed: int) -> None:
    rng = random.Random(seed)
    store = Store()
    seed_accountview(store, generate(60, seed))
    table = store["ARTICLE"]
    serial = [0]
    for step in range(400):
        _mutate(rng, table, serial)
        if step % 4:
            continue
        filters = _random_filters(rng)
        match_any = rng.random() < 0.3
        sort = rng.choice([None, None, "CNG_DATE", "MODEL_CODE,AG_CODE"])
        descending = rng.random() < 0.3
        combine = any if match_any else all
        expected = [k for k, row in table.rows.items() if combine(_reference_match(table, f, row) for f in filters)]
        if sort is None:
            expected.sort(reverse=descending)
        else:
            fields = sort.split(",")
            expected.sort(key=lambda k: (*(table.value(table.rows[k], f) for f in fields), k), reverse=descending)
        query = parse_query(_params(filters, match_any, sort, descending, None))
        assert ordered_keys(table, query) == expected, (filters, match_any, sort, descending)
        # Pages, by number and (in key order) by lastKey, cut the same list.
        assert page_of(ordered_keys(table, query), query) == expected[:7]
        if sort is None and expected:
            last = rng.choice(expected)
            paged = parse_query(_params(filters, match_any, None, descending, last))
            start = expected.index(last) + 1
            assert page_of(ordered_keys(table, paged), paged) == expected[start : start + 7]
    assert table._equal and table._from  # the indexed paths ran (and were kept up to date by the writes above)


def test_accountview_indexes_follow_put_and_computed_fields() -> None:
    """A PUT through the writer moves the index entries of the rows it changes, its computed fields' too."""
    import json
    from datetime import datetime

    from apicenter_sandbox.accountview.envelope import parse_envelope
    from apicenter_sandbox.accountview.writes import Writer

    store = Store()
    seed_accountview(store, generate(40, 5))
    table = store["ART_STOCK"]
    key = sorted(table.rows)[0]

    def keys(params: dict) -> list[str]:
        return ordered_keys(table, parse_query({"businessobject": "STK1", **params}))

    def equal(field: str, value: str) -> list[str]:
        return keys({"filtercontrolsource1": field, "filtervalue1": value, "filtervaluetype1": "C"})

    changed = {"filtercontrolsource1": "CNG_DATE", "filteroperator1": "DateOnOrAfterDate",
               "filtervalue1": "{^2031-01-01}"}  # fmt: skip
    assert keys(changed) == []
    body = {"BusinessObject": "STK1",
            "Table": {"Definition": {"Name": "ART_STOCK", "Fields": [{"Name": "REC_ID"}, {"Name": "QTY_ONHAND"}]}},
            "TableData": {"Data": {"Rows": [{"Values": [key, 12345]}]}}}  # fmt: skip
    Writer(store, lambda: datetime(2031, 1, 2)).put(parse_envelope(json.dumps(body).encode()))
    assert keys(changed) == [key]
    assert table.rows[key]["QTY_AVAIL"] == 12345 - float(table.value(table.rows[key], "QTY_RES"))
    art = table.rows[key]["ART_CODE"]
    assert equal("ART_CODE", art) == sorted(k for k, r in table.rows.items() if r["ART_CODE"] == art)


JOURNALS = ["VK", "KAS", "MEM"]


def _booking(rng: random.Random, debtor: str, taken: list[str]) -> bytes:
    """A DJ2 page: numbers left to the server, or chosen by the client (sometimes one already taken)."""
    import json

    row = {"DJ_CODE": rng.choice(JOURNALS), "SUB_NR": debtor, "TRN_DATE": "2026-02-03", "HDR_DESC": "x"}
    if rng.random() < 0.4 and taken:  # a number taken already, or one the server would hand out soon
        row["INV_NR"] = rng.choice([*taken[-3:], str(int(taken[-1]) + rng.randint(1, 3)), "0000012"])
    if rng.random() < 0.3:
        row["PAGE_NR"] = str(rng.randint(1, 30))
    lines = [{"ACCT_NR": "8000", "AMOUNT": 12.1, "VAT_CODE": "2", "TRN_DESC": "Mok"}]
    fields = ["RowId", *row]
    doc = {"BusinessObject": "DJ2",
           "Table": {"Definition": {"Name": "DJ_PAGE", "Fields": [{"Name": f} for f in fields]},
                     "DetailDefinitions": [{"Name": "DJ_LINE", "Fields": [{"Name": f} for f in ["RowId", "HeaderId", *lines[0]]]}]},
           "TableData": {"Data": {"Rows": [{"Values": ["1", *row.values()]}]},
                         "DetailData": [{"Rows": [{"Values": ["1", "1", *ln.values()]} for ln in lines]}]}}  # fmt: skip
    return json.dumps(doc).encode()


def test_accountview_number_ranges_and_unique_checks_equal_a_full_scan(monkeypatch) -> None:
    """POSTs that take numbers (INV_NR, PAGE_NR) and hit the unique (DJ_CODE, INV_NR) check give the same numbers
    and the same refusals as with every stored row tested (the index made to return all keys)."""
    from datetime import datetime

    from apicenter_sandbox.accountview import store as store_module
    from apicenter_sandbox.accountview.envelope import parse_envelope
    from apicenter_sandbox.accountview.errors import AccountViewError
    from apicenter_sandbox.accountview.writes import Writer

    world = generate(30, 7)

    def run() -> list:
        rng = random.Random(7)
        store = Store()
        seed_accountview(store, world)
        writer = Writer(store, lambda: datetime(2026, 2, 3, 12))
        outcomes, taken = [], []
        for _ in range(120):
            try:
                written = writer.post(parse_envelope(_booking(rng, world.customers[0].number, taken)))
            except AccountViewError as exc:
                outcomes.append(("refused", exc.message))
                continue
            page = store["DJ_PAGE"].rows[written["DJ_PAGE"][0]]
            taken.append(page["INV_NR"])
            outcomes.append((page["DJ_CODE"], page["INV_NR"], page["PAGE_NR"]))
        return outcomes

    indexed = run()
    monkeypatch.setattr(store_module.Table, "keys_equal", lambda self, field, texts: set(self.rows))
    assert indexed == run()
    assert any(o[0] == "refused" for o in indexed) and sum(o[0] != "refused" for o in indexed) > 60


# --- MplusKASSA: getProducts by article and PLU number, findRelation ------------------------------------------------


def _call(app: MplusSandbox, operation: str, **params) -> dict:
    with app.lock:
        return HANDLERS[operation].run(app, params)


def _reference_products(app: MplusSandbox, req: dict) -> list[dict]:
    """getProducts as a full scan over the stored products in marker order."""
    store = app.store
    articles_wanted = set(req.get("articleNumbers") or ())
    plus = {t["text"] for t in (req.get("pluNumbers") or {}).get("text", [])}
    out = []
    for product in sorted(store.products.values(), key=lambda p: p["syncMarker"]):
        if product["syncMarker"] < (req.get("syncMarker") or 0):
            continue
        articles = product["articleList"]["article"]
        if articles_wanted or plus:
            hits = [a for a in articles if a["articleNumber"] in articles_wanted or a.get("pluNumber") in plus]
            if not hits:
                continue
            if not req.get("includeAllArticlesOfSelectedProducts"):
                product = {**product, "articleList": {"article": hits}}
        out.append(product)
    return list(limited(out, req.get("syncMarkerLimit"), weight=lambda p: len(p["articleList"]["article"])))


def _plu(rng: random.Random) -> str:
    return rng.choice(["P1", "P2", "P3", "p1", "P10", "AB-0023", " P2"])


@pytest.mark.parametrize("seed", [1, 2])
def test_mplus_get_products_by_article_and_plu_equal_a_full_scan(seed: int) -> None:
    rng = random.Random(seed)
    app = MplusSandbox(generate(40, seed))
    for step in range(300):
        products = sorted(app.store.products)
        if rng.random() < 0.4:
            arts = [{"description": "nieuw", "pluNumber": _plu(rng)} for _ in range(rng.randint(1, 3))]
            top = max(app.store.article_product)
            reply = _call(app, "createProduct", product={"description": "nieuw", "articleList": {"article": arts}})
            assert reply["result"] == "CREATE-PRODUCT-RESULT-OK"
            # New numbers are one above the highest in use, as a scan for the highest would give.
            assert reply["productNumber"] == products[-1] + 1
            assert reply["articleNumbers"] == list(range(top + 1, top + 1 + len(arts)))
        else:
            number = rng.choice(products)
            current = app.store.products[number]["articleList"]["article"]
            arts = [{"articleNumber": rng.choice(current)["articleNumber"], "pluNumber": _plu(rng)}]
            if rng.random() < 0.3:
                arts.append({"description": "extra", "pluNumber": _plu(rng)})
            top = max(app.store.article_product)
            reply = _call(app, "updateProduct", product={"productNumber": number, "articleList": {"article": arts}})
            assert reply["result"] == "UPDATE-PRODUCT-RESULT-OK"
            assert reply["newArticleNumbers"] == ([top + 1] if len(arts) > 1 else [])
        if step % 3:
            continue
        numbers = sorted(app.store.article_product)
        req = {
            "syncMarker": rng.choice([0, 0, app.store.markers["article"] - 20]),
            "articleNumbers": rng.sample(numbers, rng.randint(0, 4)) + rng.choice([[], [999999]]),
            "pluNumbers": {"text": [{"text": _plu(rng)} for _ in range(rng.randint(0, 3))]},
            "includeAllArticlesOfSelectedProducts": rng.random() < 0.5,
            "syncMarkerLimit": rng.choice([None, None, 3]),
        }
        got = _call(app, "getProducts", request=req)["productList"]["product"]
        assert got == _reference_products(app, req), req


def _reference_find(app: MplusSandbox, probe: dict) -> int | None:
    texts = {f: str(v).casefold() for f, v in probe.items() if f in ("email", "name", "city") and v}
    for number in sorted(app.store.relations):
        rel = app.store.relations[number]
        if probe.get("relationNumber") and rel.get("relationNumber") != probe["relationNumber"]:
            continue
        if all(needle in str(rel.get(f) or "").casefold() for f, needle in texts.items()):
            return number
    return None


def _email(rng: random.Random) -> str:
    return (
        rng.choice(["jan", "Jan.de.Vries", "piet", "an", "klaas.jan"])
        + rng.choice(["", "1", "22"])
        + "@"
        + rng.choice(["example.nl", "Example.NL", "bakker.com", "x.nl"])
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_mplus_find_relation_equals_a_full_scan(seed: int) -> None:
    rng = random.Random(seed)
    app = MplusSandbox(generate(60, seed))
    for step in range(300):
        if rng.random() < 0.5 or not app.store.relations:
            data = {"name": rng.choice(["Bakkerij", "Jansen BV", "Émile Zoë"]), "email": _email(rng)}
            if rng.random() < 0.2:
                del data["email"]
            top = max(app.store.relations, default=0)
            reply = _call(app, "createRelation", relation=data)
            assert reply["result"] == "CREATE-RELATION-RESULT-OK" and reply["relationNumber"] == top + 1
        else:
            number = rng.choice(sorted(app.store.relations))
            data = {"relationNumber": number, "email": _email(rng) if rng.random() < 0.8 else ""}
            assert _call(app, "updateRelation", relation=data)["result"] == "UPDATE-RELATION-RESULT-OK"
        if step % 2:
            continue
        email = _email(rng)
        probe = {"email": rng.choice([email, email.upper(), email[2:9], email[:2], "@x.nl", "nobody@nowhere.nl"])}
        if rng.random() < 0.3:
            probe["name"] = rng.choice(["bakker", "JANSEN", "zoë", "b"])
        if rng.random() < 0.2:
            probe["relationNumber"] = rng.choice(sorted(app.store.relations) + [10**6])
        reply = _call(app, "findRelation", relation=probe)
        expected = _reference_find(app, probe)
        if expected is None:
            assert reply["result"] == "FIND-RELATION-RESULT-NOT-FOUND", probe
        else:
            assert reply["result"] == "FIND-RELATION-RESULT-OK", probe
            assert reply["relation"]["relationNumber"] == expected, probe


def test_mplus_indexes_start_over_on_reset() -> None:
    app = MplusSandbox(generate(30, 4))
    reply = _call(app, "createProduct", product={"articleList": {"article": [{"pluNumber": "RESET-ME"}]}})
    req = {"pluNumbers": {"text": [{"text": "RESET-ME"}]}}
    assert [p["productNumber"] for p in _call(app, "getProducts", request=req)["productList"]["product"]] == [
        reply["productNumber"]
    ]
    app.reset()
    assert _call(app, "getProducts", request=req)["productList"]["product"] == []

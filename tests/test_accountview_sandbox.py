"""The AccountView sandbox over real sockets with httpx: OAuth, reads, writes, errors and faults."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apicenter_sandbox import world as world_mod
from apicenter_sandbox.accountview import AccountViewSandbox
from apicenter_sandbox.accountview import assumptions as A
from apicenter_sandbox.http import SandboxServer

CLIENT_ID, SECRET = "sandbox-client", "sandbox-client-secret"
REDIRECT = "http://localhost:8069/accountview/callback"
DATA = "/api/v3/accountviewdata"


# --- helpers ---------------------------------------------------------------------------


def authorize(base: str, state: str = "st-1", redirect: str = REDIRECT, **extra) -> str:
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect, "state": state, **extra}
    r = httpx.get(f"{base}/ams/authorize.aspx", params=params, follow_redirects=False)
    assert r.status_code == 302, r.text
    location = urlsplit(r.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


def token_request(base: str, **form) -> httpx.Response:
    return httpx.post(f"{base}/api/v3/token", data={"client_id": CLIENT_ID, "client_secret": SECRET, **form})


def login(base: str) -> dict:
    r = token_request(base, grant_type="authorization_code", code=authorize(base), redirect_uri=REDIRECT)
    assert r.status_code == 200, r.text
    return r.json()


def refresh(base: str, refresh_token: str) -> httpx.Response:
    return token_request(base, grant_type="refresh_token", refresh_token=refresh_token)


def assert_av_error(r: httpx.Response, status: int, *needles: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["ErrorType"] == "AccountViewError"
    assert set(body) == {"ErrorType", "ErrorNumbers", "ErrorMessage"}
    for needle in needles:
        assert needle in body["ErrorMessage"], body["ErrorMessage"]
    return body


def envelope(bo: str, table: str, row: dict, details: dict[str, list[dict]] | None = None, **top) -> dict:
    """A §5.3 table envelope with one header row (RowId "1") and its detail rows."""
    fields = ["RowId", *row]
    doc = {
        "BusinessObject": bo,
        "Table": {"Definition": {"Name": table, "Fields": [{"Name": f, "FieldType": "C"} for f in fields]}},
        "TableData": {"Data": {"Rows": [{"Values": ["1", *row.values()]}]}},
        **top,
    }
    if details:
        doc["Table"]["DetailDefinitions"] = []
        doc["TableData"]["DetailData"] = []
        for name, rows in details.items():
            dfields = ["RowId", "HeaderId", *rows[0]]
            doc["Table"]["DetailDefinitions"].append(
                {"Name": name, "Fields": [{"Name": f, "FieldType": "C"} for f in dfields]}
            )
            doc["TableData"]["DetailData"].append(
                {"Rows": [{"Values": [str(i), "1", *r.values()]} for i, r in enumerate(rows, 1)]}
            )
    return doc


def faults(base: str, **cfg) -> None:
    r = httpx.post(f"{base}/_sandbox/faults", json=cfg)
    assert r.status_code == 200, r.text


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world():
    return world_mod.generate(200)


@pytest.fixture(scope="module")
def server(world):
    with SandboxServer(AccountViewSandbox(world)) as srv:
        yield srv


@pytest.fixture(scope="module")
def company(server) -> str:
    token = login(server.url)["access_token"]
    r = httpx.get(f"{server.url}/api/v3/companies", headers={"Authorization": f"Bearer {token}"})
    return r.json()[0]["Id"]


@pytest.fixture(scope="module")
def api(server, company):
    token = login(server.url)["access_token"]
    headers = {"Authorization": f"Bearer {token}", "x-company": company, "Accept": "application/json"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=5) as client:
        yield client


@pytest.fixture
def clean_faults(server):
    yield
    faults(server.url, rate=0)


def get(api: httpx.Client, bo: str, **params) -> dict:
    r = api.get(DATA, params={"BusinessObject": bo, **params})
    assert r.status_code == 200, r.text
    return r.json()


# --- OAuth -----------------------------------------------------------------------------


def test_authorize_redirect_carries_code_and_state(server):
    code = authorize(server.url, state="abc 123/ä")
    assert len(code) > 20
    r = httpx.get(
        f"{server.url}/ams/authorize.aspx",
        params={"response_type": "code", "client_id": "nope", "redirect_uri": REDIRECT},
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"
    r = httpx.get(
        f"{server.url}/ams/authorize.aspx",
        params={"response_type": "token", "client_id": CLIENT_ID, "redirect_uri": REDIRECT},
    )
    assert r.status_code == 400 and r.json()["error"] == "unsupported_response_type"
    r = httpx.get(
        f"{server.url}/ams/authorize.aspx",
        params={"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": "not-a-url"},
    )
    assert r.status_code == 400


def test_code_exchange_gives_bearer_tokens_and_code_is_single_use(server):
    code = authorize(server.url)
    r = token_request(server.url, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "bearer" and tok["expires_in"] == A.ACCESS_TOKEN_TTL_S
    assert tok["access_token"] and tok["refresh_token"] and tok["scope"] == A.DEFAULT_SCOPE
    again = token_request(server.url, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    other = token_request(
        server.url, grant_type="authorization_code", code=authorize(server.url), redirect_uri=REDIRECT + "x"
    )
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    assert "redirect_uri" in other.json()["error_description"]


def test_wrong_client_secret_is_refused(server):
    code = authorize(server.url)
    r = httpx.post(
        f"{server.url}/api/v3/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": CLIENT_ID,
            "client_secret": "wrong",
        },
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"
    bad = token_request(server.url, grant_type="password")
    assert bad.status_code == 400 and bad.json()["error"] == "unsupported_grant_type"


def test_refresh_rotates_with_one_grace_reuse(server, company):
    first = login(server.url)
    second = refresh(server.url, first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    # The reply carrying `second` might have been lost: the old token works once more...
    grace = refresh(server.url, first["refresh_token"])
    assert grace.status_code == 200, grace.text
    # ...and never again.
    dead = refresh(server.url, first["refresh_token"])
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    # Both tokens issued from it are live and rotate on their own.
    for tok in (second.json(), grace.json()):
        assert refresh(server.url, tok["refresh_token"]).status_code == 200
        r = httpx.get(f"{server.url}/api/v3/companies", headers={"Authorization": f"Bearer {tok['access_token']}"})
        assert r.status_code == 200


def test_grace_window_closes():
    app = AccountViewSandbox(world_mod.generate(100), refresh_grace_s=0.3)
    with SandboxServer(app) as srv:
        first = login(srv.url)
        assert refresh(srv.url, first["refresh_token"]).status_code == 200
        time.sleep(0.4)
        late = refresh(srv.url, first["refresh_token"])
        assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_expired_or_missing_token_gets_401():
    app = AccountViewSandbox(world_mod.generate(100), access_token_ttl_s=1)
    with SandboxServer(app) as srv:
        tok = login(srv.url)
        assert tok["expires_in"] == 1
        auth = {"Authorization": f"Bearer {tok['access_token']}"}
        assert httpx.get(f"{srv.url}/api/v3/companies", headers=auth).status_code == 200
        time.sleep(1.05)
        assert_av_error(httpx.get(f"{srv.url}/api/v3/companies", headers=auth), 401, "expired")
        fresh = refresh(srv.url, tok["refresh_token"]).json()
        auth = {"Authorization": f"Bearer {fresh['access_token']}"}
        assert httpx.get(f"{srv.url}/api/v3/companies", headers=auth).status_code == 200
        assert httpx.post(f"{srv.url}/_sandbox/expire-tokens").json() == {"expired_access_tokens": 1}
        r = httpx.get(f"{srv.url}/api/v3/companies", headers=auth)
        assert_av_error(r, 401, "expired")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert_av_error(httpx.get(f"{srv.url}/api/v3/companies"), 401, "Bearer")
        assert_av_error(
            httpx.get(f"{srv.url}/api/v3/companies", headers={"Authorization": "Bearer nope"}), 401, "invalid"
        )


def test_read_only_scope_cannot_write(server, company):
    code = authorize(server.url, scope="readaccountviewdata")
    tok = token_request(server.url, grant_type="authorization_code", code=code, redirect_uri=REDIRECT).json()
    headers = {"Authorization": f"Bearer {tok['access_token']}", "x-company": company}
    r = httpx.post(f"{server.url}{DATA}", headers=headers, json=envelope("AG1", "ART_GRP", {"AG_CODE": "GX1"}))
    assert_av_error(r, 403, "updateaccountviewdata")
    assert httpx.get(f"{server.url}{DATA}", headers=headers, params={"BusinessObject": "AG1"}).status_code == 200


# --- companies and x-company -----------------------------------------------------------


def test_companies_is_a_bare_array_without_x_company(server, world):
    token = login(server.url)["access_token"]
    r = httpx.get(f"{server.url}/api/v3/Companies", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    companies = r.json()
    assert isinstance(companies, list) and len(companies) == 1
    assert set(companies[0]) == {"Id", "Description", "Code"}
    assert companies[0]["Description"] == world.company_name


def test_data_calls_need_a_valid_x_company(server, api):
    headers = {"Authorization": api.headers["authorization"]}
    r = httpx.get(f"{server.url}{DATA}", headers=headers, params={"BusinessObject": "AR1"})
    assert_av_error(r, 400, "x-company")
    r = httpx.get(
        f"{server.url}{DATA}",
        headers={**headers, "x-company": "00000000-0000-0000-0000-000000000000"},
        params={"BusinessObject": "AR1"},
    )
    assert_av_error(r, 403, "x-company")


# --- reads -----------------------------------------------------------------------------


def test_get_shape_is_table_keyed_with_housekeeping_keys(api, world):
    body = get(api, "AR1", PageSize=3)
    assert list(body) == ["CONTACT"]
    rows = body["CONTACT"]
    assert [r["CONTACT_Id"] for r in rows] == [0, 1, 2]
    assert all(isinstance(r["EXT_KEY"], int) for r in rows)
    first = rows[0]
    assert first["SUB_NR"] == world.customers[0].number
    assert all(k == k.upper() for k in first if k != "CONTACT_Id")
    assert first["CNG_DATE"] == world.customers[0].changed.strftime("%Y-%m-%dT%H:%M:%S")
    assert first["MAIN_CONT"] == f"{world.customers[0].first_name} {world.customers[0].last_name}"
    person = next(r for r in get(api, "AR1", PageSize=10)["CONTACT"] if r["SUB_NR"] == world.edge["person_customer"])
    assert person["MAIN_CONT"] == "" and " " in person["ACCT_NAME"]


def test_paging_by_page_number_covers_the_table_once(api, server):
    seen, page = [], 1
    for _guard in range(len(server.app.tables["CONTACT"])):  # a paging bug must fail, not hang
        rows = get(api, "AR1", PageSize=37, PageNumber=page, Fields="SUB_NR")["CONTACT"]
        seen += [r["SUB_NR"] for r in rows]
        if len(rows) < 37:
            break
        page += 1
    assert len(seen) == len(set(seen))
    assert set(seen) == set(server.app.tables["CONTACT"].rows)
    assert seen == sorted(seen)


@pytest.mark.parametrize("order", ["Ascending", "descending"])
def test_paging_by_last_key_covers_the_table_once(api, server, order):
    seen, last = [], ""
    for _guard in range(len(server.app.tables["ARTICLE"])):  # a paging bug must fail, not hang
        rows = get(api, "AK1", PageSize=25, lastKey=last, SortOrder=order, Fields="art_code")["ARTICLE"]
        if not rows:
            break
        seen += [r["ART_CODE"] for r in rows]
        last = rows[-1]["ART_CODE"]
    expected = sorted(server.app.tables["ARTICLE"].rows, reverse=order == "descending")
    assert seen == expected


def test_only_articles_in_the_books_are_served(api, world):
    codes = {r["ART_CODE"] for r in get(api, "AK1", PageSize=1000, Fields="ART_CODE")["ARTICLE"]}
    assert world.edge["missing_sku"] not in codes
    assert codes == {a.sku for a in world.articles if a.in_accountview}


def flt(n: int, source: str, op: str, value: str, vtype: str = "C", is_list: bool = False) -> dict:
    return {
        f"FilterControlSource{n}": source,
        f"FilterOperator{n}": op,
        f"FilterValueType{n}": vtype,
        f"FilterValue{n}": value,
        f"FilterIsListOfValues{n}": "true" if is_list else "false",
    }


def test_filter_equal_is_case_insensitive_on_text(api, world):
    cust = world.customers[5]
    rows = get(api, "AR1", **flt(1, "contact.mail_bus", "Equal", cust.email.upper()))["CONTACT"]
    assert [r["SUB_NR"] for r in rows] == [cust.number]


def test_filter_not_equal_contains_and_numbers(api, world):
    foreign = {c.number for c in world.customers if c.address.country != "NL"}
    rows = get(api, "AR1", PageSize=1000, Fields="SUB_NR,CNT_CODE", **flt(1, "CNT_CODE", "notequal", "NL"))["CONTACT"]
    assert {r["SUB_NR"] for r in rows} == foreign and foreign
    rows = get(api, "AR1", PageSize=1000, **flt(1, "ACCT_NAME", "Contains", "bakkerij"))["CONTACT"]
    assert rows and all("bakkerij" in r["ACCT_NAME"].lower() for r in rows)
    assert len(rows) == sum("bakkerij" in c.name.lower() for c in world.customers)
    rows = get(api, "AR1", PageSize=1000, **flt(1, "DISC_PCT", "Equal", "5", "N"))["CONTACT"]
    assert {r["SUB_NR"] for r in rows} == {c.number for c in world.customers if c.discount_pct == 5}


def test_filter_list_of_values_and_match_any(api, world):
    a, b = world.customers[1].number, world.customers[2].number
    rows = get(api, "AR1", **flt(1, "SUB_NR", "Equal", f"{a},{b}", is_list=True))["CONTACT"]
    assert {r["SUB_NR"] for r in rows} == {a, b}
    both = {**flt(1, "SUB_NR", "Equal", a), **flt(2, "SUB_NR", "Equal", b)}
    assert get(api, "AR1", **both)["CONTACT"] == []  # AND by default
    rows = get(api, "AR1", matchAnyFilter="true", **both)["CONTACT"]
    assert {r["SUB_NR"] for r in rows} == {a, b}


def test_filter_dates_with_foxpro_literals(api, world):
    cutoff = world.customers[60].changed
    expected = {c.number for c in world.customers if c.changed >= cutoff}
    literal = "{^" + cutoff.strftime("%Y-%m-%d %H:%M:%S") + "}"
    rows = get(api, "AR1", PageSize=1000, **flt(1, "CNG_DATE", "DateOnOrAfterDate", literal, "T"))["CONTACT"]
    assert {r["SUB_NR"] for r in rows} >= expected
    assert all(r["CNG_DATE"] >= cutoff.strftime("%Y-%m-%dT%H:%M:%S") for r in rows)
    iso = get(api, "AR1", PageSize=1000, **flt(1, "CNG_DATE", "dateonorafterdate", cutoff.isoformat(), "T"))["CONTACT"]
    assert {r["SUB_NR"] for r in iso} == {r["SUB_NR"] for r in rows}
    # A D value compares the date only: everything changed that day or later.
    day = "{^" + cutoff.strftime("%Y-%m-%d") + "}"
    rows = get(api, "AR1", PageSize=1000, **flt(1, "CNG_DATE", "DateOnOrAfterDate", day, "D"))["CONTACT"]
    assert {r["SUB_NR"] for r in rows} >= {c.number for c in world.customers if c.changed.date() >= cutoff.date()}
    tomorrow = get(api, "AR1", **flt(1, "CNG_DATE", "DateOnOrAfterDate", "{^2099-01-01}", "D"))["CONTACT"]
    assert tomorrow == []
    r = api.get(DATA, params={"BusinessObject": "AR1", **flt(1, "CNG_DATE", "DateOnOrAfterDate", "yesterday", "D")})
    assert_av_error(r, 400, "CNG_DATE")


def test_fields_and_sort(api, world):
    rows = get(
        api, "AR1", PageSize=1000, Fields="contact.sub_nr, ACCT_NAME", SortFields="acct_name", SortOrder="Descending"
    )["CONTACT"]
    assert set(rows[0]) == {"SUB_NR", "ACCT_NAME", "EXT_KEY", "CONTACT_Id"}
    names = [r["ACCT_NAME"] for r in rows]
    assert names == sorted(names, reverse=True)
    star = get(api, "VA1", Fields="*")["VAT"]
    assert {r["VAT_CODE"] for r in star} == {v.code for v in world.vat_codes} and "VAT_PCT" in star[0]


def test_paths_and_parameter_names_are_case_insensitive(api):
    r = api.get("/API/V3/AccountViewData", params={"businessobject": "ak1", "PAGESIZE": "4", "pagenumber": "2"})
    assert r.status_code == 200 and len(r.json()["ARTICLE"]) == 4


def test_read_errors_name_what_is_wrong(api):
    assert_av_error(api.get(DATA, params={"BusinessObject": "XX9"}), 400, "XX9")
    assert_av_error(api.get(DATA, params={"BusinessObject": "AR1", "Fields": "NO_SUCH"}), 400, "NO_SUCH")
    assert_av_error(api.get(DATA, params={"BusinessObject": "AR1", "PageSize": "5000"}), 400, "PageSize")
    assert_av_error(api.get(DATA, params={"BusinessObject": "AR1", "BookDate": "31-12-2026"}), 400, "BookDate")
    assert get(api, "AR1", BookDate="2026-12-31", PageSize=1)["CONTACT"]
    assert_av_error(api.get(DATA, params={"BusinessObject": "AR1", **flt(1, "CITY", "Like", "x")}), 400, "Like")
    assert_av_error(api.get(DATA, params={"BusinessObject": "DJ2"}), 405, "DJ2P")


def test_assumed_objects_are_seeded_from_the_world(api, world):
    art = next(a for a in world.articles if a.in_accountview and a.ean and a.model)
    row = get(api, "AK1", **flt(1, "ART_CODE", "Equal", art.sku))["ARTICLE"][0]
    f = A.ARTICLE_FIELDS
    assert row[f["ean"].name] == art.ean and row[f["vat_code"].name] == art.vat_code
    assert row[f["model"].name] == art.model and row[f["size"].name] == art.size
    assert row[f["price_incl_vat"].name] is False and row["PX_SELL"] == float(art.price_excl)
    stock = get(api, A.STOCK.code, **flt(1, "ART_CODE", "Equal", art.sku))[A.STOCK.table]
    assert {s["WH_CODE"]: s["QTY_RES"] for s in stock} == {lvl.warehouse: float(lvl.reserved) for lvl in art.stock}
    assert all(s["QTY_AVAIL"] == s["QTY_ONHAND"] - s["QTY_RES"] for s in stock)
    items = get(api, A.PRICE_LIST_ITEM.code, PageSize=1000)[A.PRICE_LIST_ITEM.table]
    assert len(items) == len(world.price_items) and any(i["MIN_QTY"] == 10 for i in items)
    assert len(get(api, A.GROUP_DISCOUNT.code)[A.GROUP_DISCOUNT.table]) == len(world.group_discounts)
    assert {w["WH_CODE"] for w in get(api, A.WAREHOUSE.code)[A.WAREHOUSE.table]} == {w.code for w in world.warehouses}


def test_already_booked_order_is_found_by_its_reference(api, world):
    ref = world.edge["order_already_booked"]
    body = get(api, "SO1", **flt(1, "COMMENT1", "Equal", ref))
    assert len(body["SO_HDR"]) == 1 and body["SO_LINE"]
    assert {ln["ORD_NR"] for ln in body["SO_LINE"]} == {body["SO_HDR"][0]["ORD_NR"]}
    assert len(get(api, "DJ2P", **flt(1, "COMMENT1", "Equal", ref))["DJ_PAGE"]) == 1
    other = next(o for o in world.orders if not o.already_booked).ext_order_id
    assert get(api, "SO1", **flt(1, "COMMENT1", "Equal", other))["SO_HDR"] == []


# --- writes ----------------------------------------------------------------------------


NEW_DEBTOR = {"ACCT_NAME": "Fietsenwinkel Test B.V.", "SRC_CODE": "-", "MAIL_BUS": "new.debtor@example.nl",
              "ADDRESS1": "Kerkstraat 1", "POST_CODE": "3511 AB", "CITY": "Utrecht", "CNT_CODE": "NL", "ACCT_NR": "1300"}  # fmt: skip


def test_post_debtor_assigns_sub_nr_and_tracks_changes(api, server):
    before = httpx.get(f"{server.url}/_sandbox/stats").json()["writes"].get("CONTACT", 0)
    r = api.post(DATA, json=envelope("AR1", "CONTACT", NEW_DEBTOR, BookDate="2026-02-01T10:00:00.000Z"))
    assert r.status_code == 200, r.text
    row = r.json()["CONTACT"][0]
    assert row["SUB_NR"] == str(A.FIRST_SUB_NR) and row["CNG_NR"] == 1
    assert row["INP_DATE"] == row["CNG_DATE"] and len(row["CNG_DATE"]) == 19
    assert server.app.tables["CONTACT"].get(row["SUB_NR"])["MAIL_BUS"] == "new.debtor@example.nl"
    found = get(api, "AR1", **flt(1, "MAIL_BUS", "Equal", "new.debtor@example.nl"))["CONTACT"]
    assert [f["SUB_NR"] for f in found] == [row["SUB_NR"]]
    after = httpx.get(f"{server.url}/_sandbox/stats").json()["writes"]["CONTACT"]
    assert after == before + 1


def test_post_accepts_lowercase_members_and_lenient_values(api):
    doc = {
        "businessobject": "AG1",
        "table": {
            "definition": {
                "name": "art_grp",
                "fields": [{"name": "ag_code"}, {"name": "ag_desc"}, {"name": "pos_sell"}],
            }
        },
        "tabledata": {"data": {"rows": [{"values": ["G900", "Cadeaus   ", "False"]}]}},
    }
    r = api.post(DATA, json=doc)
    assert r.status_code == 200, r.text
    row = r.json()["ART_GRP"][0]
    assert (row["AG_CODE"], row["AG_DESC"], row["POS_SELL"]) == ("G900", "Cadeaus", False)


def test_post_sales_order_with_lines(api, world, server):
    debtor = world.customers[3].number
    skus = [a.sku for a in world.articles if a.in_accountview][:2]
    doc = envelope(
        "SO1", "SO_HDR",
        {"ORD_DATE": "2026-02-01T10:00:00", "RPL_INV": debtor, "COMMENT1": "POS-TEST-1", "PD_AMT": "1,50"},
        {"SO_LINE": [{"ART_CODE": skus[0], "ORD_QTY": 2, "ART_PX": "12.10"}, {"ART_CODE": skus[1], "ORD_QTY": "1", "ART_PX": 5}]},
    )  # fmt: skip
    r = api.post(DATA, json=doc)
    assert r.status_code == 200, r.text
    body = r.json()
    hdr = body["SO_HDR"][0]
    assert hdr["REC_ID"] and hdr["ORD_NR"] and hdr["PD_AMT"] == 1.5
    assert [ln["ART_CODE"] for ln in body["SO_LINE"]] == skus
    assert {ln["ORD_NR"] for ln in body["SO_LINE"]} == {hdr["ORD_NR"]}
    assert len({ln["REC_ID"] for ln in body["SO_LINE"]}) == 2
    read = get(api, "SO1", **flt(1, "COMMENT1", "Equal", "POS-TEST-1"))
    assert [ln["REC_ID"] for ln in read["SO_LINE"]] == [ln["REC_ID"] for ln in body["SO_LINE"]]
    assert server.app.stats.writes["SO_LINE"] >= 2


def test_sales_order_for_an_unknown_sku_fails_whole(api, world, server):
    before = len(server.app.tables["SO_HDR"])
    doc = envelope("SO1", "SO_HDR", {"RPL_INV": world.customers[0].number, "COMMENT1": "POS-TEST-2"},
                   {"SO_LINE": [{"ART_CODE": world.edge["missing_sku"], "ORD_QTY": 1}]})  # fmt: skip
    body = assert_av_error(api.post(DATA, json=doc), 400, "SO_LINE.ART_CODE", world.edge["missing_sku"])
    assert body["ErrorNumbers"] == [A.ERRORS["bad_reference"][1]]
    assert len(server.app.tables["SO_HDR"]) == before


def test_post_dj2_booking_assigns_inv_nr_and_is_readable_via_dj2p(api, world):
    debtor = world.customers[0].number
    doc = envelope(
        "DJ2", "DJ_PAGE",
        {"DJ_CODE": "VK", "SUB_NR": debtor, "TRN_DATE": "2026-02-03", "HDR_DESC": "Order POS-TEST-3", "GROSS_FLG": "TRUE",
         "COMMENT1": "POS-TEST-3"},
        {"DJ_LINE": [{"ACCT_NR": "8000", "AMOUNT": 121, "VAT_CODE": "2", "TRN_DESC": "Mok"},
                     {"ACCT_NR": "8010", "AMOUNT": "10.90", "VAT_CODE": "1", "TRN_DESC": "Thee"}]},
    )  # fmt: skip
    r = api.post(DATA, json=doc)
    assert r.status_code == 200, r.text
    page = r.json()["DJ_PAGE"][0]
    assert (
        page["INV_NR"] and page["PAGE_NR"] and page["TRN_DATE"] == "2026-02-03T00:00:00" and page["GROSS_FLG"] is True
    )
    assert all(ln["INV_NR"] == page["INV_NR"] and ln["DJ_CODE"] == "VK" for ln in r.json()["DJ_LINE"])
    read = get(api, "DJ2P", **flt(1, "INV_NR", "Equal", page["INV_NR"]))
    assert [p["REC_ID"] for p in read["DJ_PAGE"]] == [page["REC_ID"]]
    assert [ln["AMOUNT"] for ln in read["DJ_LINE"]] == [121.0, 10.9]
    # The same invoice number twice in one journal is refused; booked pages cannot be updated.
    dup = envelope("DJ2", "DJ_PAGE", {"DJ_CODE": "VK", "INV_NR": page["INV_NR"], "HDR_DESC": "again"})
    assert_av_error(api.post(DATA, json=dup), 409, "INV_NR")
    assert_av_error(api.put(DATA, json=dup), 405, "DJ2")
    assert_av_error(api.post(DATA, json=envelope("DJ2P", "DJ_PAGE", {"HDR_DESC": "x"})), 405, "DJ2P")


def test_put_updates_and_bumps_change_tracking(api, world, server):
    number = world.customers[7].number
    before = server.app.row("CONTACT", number)
    r = api.put(DATA, json=envelope("AR1", "CONTACT", {"SUB_NR": number, "CITY": "Zwolle"}))
    assert r.status_code == 200, r.text
    row = r.json()["CONTACT"][0]
    assert row["CITY"] == "Zwolle" and row["CNG_NR"] == before["CNG_NR"] + 1
    assert row["CNG_DATE"] > before["CNG_DATE"] and row["INP_DATE"] == before["INP_DATE"]
    assert row["ACCT_NAME"] == before["ACCT_NAME"]
    # The top-level "id" form [C S4].
    r = api.put(DATA, json=envelope("AR1", "CONTACT", {"TEL_BUS": "0301234567"}, id=number))
    assert r.status_code == 200 and r.json()["CONTACT"][0]["CNG_NR"] == before["CNG_NR"] + 2
    since = "{^" + row["CNG_DATE"].replace("T", " ") + "}"
    changed = get(api, "AR1", **flt(1, "CNG_DATE", "DateOnOrAfterDate", since, "T"))["CONTACT"]
    assert number in {c["SUB_NR"] for c in changed}
    assert_av_error(api.put(DATA, json=envelope("AR1", "CONTACT", {"SUB_NR": "NOPE1", "CITY": "x"})), 404, "NOPE1")
    assert_av_error(api.put(DATA, json=envelope("AR1", "CONTACT", {"CITY": "x"})), 400, "SUB_NR")
    assert_av_error(
        api.put(DATA, json=envelope("AR1", "CONTACT", {"SUB_NR": number, "ACCT_NAME": ""})), 400, "ACCT_NAME"
    )


def test_validation_errors_name_the_field(api, world):
    missing = {k: v for k, v in NEW_DEBTOR.items() if k != "ACCT_NAME"}
    body = assert_av_error(
        api.post(DATA, json=envelope("AR1", "CONTACT", missing)), 400, "CONTACT.ACCT_NAME", "mandatory"
    )
    assert body["ErrorNumbers"] == [A.ERRORS["mandatory"][1]]
    long_name = {**NEW_DEBTOR, "ACCT_NAME": "x" * 41}
    assert_av_error(api.post(DATA, json=envelope("AR1", "CONTACT", long_name)), 400, "CONTACT.ACCT_NAME", "40")
    bad_number = {**NEW_DEBTOR, "DISC_PCT": "veel"}
    assert_av_error(api.post(DATA, json=envelope("AR1", "CONTACT", bad_number)), 400, "CONTACT.DISC_PCT")
    unknown = {**NEW_DEBTOR, "FAVOURITE": "x"}
    assert_av_error(api.post(DATA, json=envelope("AR1", "CONTACT", unknown)), 400, "FAVOURITE")
    taken = {**NEW_DEBTOR, "SUB_NR": world.customers[0].number}
    assert_av_error(api.post(DATA, json=envelope("AR1", "CONTACT", taken)), 409, "SUB_NR")
    sku = next(a.sku for a in world.articles if a.in_accountview)
    assert_av_error(
        api.post(DATA, json=envelope("AK1", "ARTICLE", {"ART_CODE": sku, "ART_DESC1": "x"})), 409, "ART_CODE"
    )
    assert_av_error(api.post(DATA, json=envelope("AG1", "ART_GRP", {"AG_CODE": world.groups[0].code})), 409, "AG_CODE")
    assert_av_error(
        api.post(DATA, json=envelope("AR1", "CONTACT", {**NEW_DEBTOR, "CNG_DATE": "2026-01-01"})), 400, "CNG_DATE"
    )
    short = envelope("AR1", "CONTACT", NEW_DEBTOR)
    short["TableData"]["Data"]["Rows"][0]["Values"].pop()
    assert_av_error(api.post(DATA, json=short), 400, "values")
    assert_av_error(api.post(DATA, content=b"{not json", headers={"content-type": "application/json"}), 400, "JSON")


# --- faults ----------------------------------------------------------------------------


def test_error200_fault_sends_the_error_body_with_http_200(api, server, clean_faults):
    faults(server.url, rate=1, kinds=["error200"])
    r = api.get(DATA, params={"BusinessObject": "AR1"})
    assert r.status_code == 200
    assert r.json()["ErrorType"] == "AccountViewError" and r.json()["ErrorMessage"]


def test_reset_fault_is_a_connection_error(api, server, clean_faults):
    faults(server.url, rate=1, kinds=["reset"])
    with pytest.raises(httpx.TransportError):
        api.get(DATA, params={"BusinessObject": "AR1"})


def test_http503_and_expired_token_faults(api, server, clean_faults):
    faults(server.url, rate=1, kinds=["http503"])
    assert_av_error(api.get(DATA, params={"BusinessObject": "AR1"}), 503)
    faults(server.url, rate=1, kinds=["expired_token"])
    assert_av_error(api.get(DATA, params={"BusinessObject": "AR1"}), 401, "expired")


def test_lost_reply_on_post_still_writes(api, server, clean_faults):
    faults(server.url, rate=1, kinds=["lost_reply"], operations=["POST AR1"])
    debtor = {**NEW_DEBTOR, "MAIL_BUS": "lost.reply@example.nl"}
    with pytest.raises(httpx.TransportError):
        api.post(DATA, json=envelope("AR1", "CONTACT", debtor))
    faults(server.url, rate=0)
    found = get(api, "AR1", **flt(1, "MAIL_BUS", "Equal", "lost.reply@example.nl"))["CONTACT"]
    assert len(found) == 1
    assert httpx.get(f"{server.url}/_sandbox/stats").json()["faults_injected"]["lost_reply_after_write"] == 1


# --- control endpoints -----------------------------------------------------------------


def test_stats_and_reset(api, server, world):
    stats = httpx.get(f"{server.url}/_sandbox/stats").json()
    assert stats["calls"]["GET AR1"] > 0 and stats["writes"]["CONTACT"] >= 1
    assert stats["rows"]["CONTACT"] > len(world.customers)
    assert httpx.post(f"{server.url}/_sandbox/reset").json() == {"reset": True}
    stats = httpx.get(f"{server.url}/_sandbox/stats").json()
    assert stats["rows"]["CONTACT"] == len(world.customers) and stats["total_writes"] == 0
    assert stats["rows"]["ARTICLE"] == sum(a.in_accountview for a in world.articles)
    assert get(api, "AR1", **flt(1, "MAIL_BUS", "Equal", "new.debtor@example.nl"))["CONTACT"] == []
    # Numbering starts over: the next new debtor gets the first number again.
    r = api.post(DATA, json=envelope("AR1", "CONTACT", NEW_DEBTOR))
    assert r.json()["CONTACT"][0]["SUB_NR"] == str(A.FIRST_SUB_NR)


def test_every_assumed_name_is_documented():
    import re
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "assumptions.md").read_text(encoding="utf-8")
    section = doc[doc.index("## AccountView") : doc.index("## MplusKASSA")]
    names = [(where, name) for where, name, _ in A.all_assumed_names()]
    missing = [f"{w}: {n}" for w, n in names if not re.search(rf"(?<![A-Z0-9_]){re.escape(n)}(?![A-Z0-9_])", section)]
    assert missing == []
    for table in (obj.table for obj in A.OBJECTS.values()):
        assert f"`{table}`" in section

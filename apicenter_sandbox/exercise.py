"""`apicenter-sandbox --exercise`: call both sandboxes as a client would and show what came back.

This is the main job until the sync engine lands: it proves, on a fresh
machine, that both simulated APIs answer over real sockets with the real
contracts (OAuth2 + paged JSON on one side, SOAP on the real WSDL on the other).
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx

from .runner import Sandboxes

REDIRECT_URI = "http://localhost/apicenter/oauth/callback"


def _step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def exercise_accountview(sb: Sandboxes) -> None:
    base = sb.accountview_url
    with httpx.Client(base_url=base, timeout=30) as http:
        _step("AccountView: OAuth2 authorization-code flow")
        r = http.get(
            "/ams/authorize.aspx",
            params={
                "response_type": "code",
                "client_id": sb.av_client_id,
                "redirect_uri": REDIRECT_URI,
                "scope": "readaccountviewdata updateaccountviewdata",
                "state": "exercise-42",
            },
        )
        query = parse_qs(urlsplit(r.headers["location"]).query)
        assert query["state"] == ["exercise-42"], "state must come back unchanged"
        token = http.post(
            "/api/v3/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": REDIRECT_URI,
                "client_id": sb.av_client_id,
                "client_secret": sb.av_client_secret,
            },
        ).json()
        print(f"   redirect {r.status_code} with code and state; token type {token['token_type']}, "
              f"expires in {token['expires_in']} s")  # fmt: skip
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        refreshed = http.post(
            "/api/v3/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": token["refresh_token"],
                "client_id": sb.av_client_id,
                "client_secret": sb.av_client_secret,
            },
        ).json()
        print(f"   refresh rotated the refresh token: {refreshed['refresh_token'] != token['refresh_token']}")
        auth = {"Authorization": f"Bearer {refreshed['access_token']}"}

        companies = http.get("/api/v3/companies", headers=auth).json()
        print(f"   companies: {', '.join(c['Description'] + ' (' + c['Code'] + ')' for c in companies)}")
        headers = {**auth, "x-company": companies[0]["Id"]}

        _step("AccountView: read every article in pages of 1000")
        started, page, rows = time.monotonic(), 1, 0
        while True:
            data = http.get(
                "/api/v3/accountviewdata",
                headers=headers,
                params={"BusinessObject": "AK1", "PageSize": 1000, "PageNumber": page},
            ).json()
            batch = data.get("ARTICLE", [])
            rows += len(batch)
            if len(batch) < 1000:
                break
            page += 1
        print(f"   {rows} articles in {page} page(s), {time.monotonic() - started:.2f} s")

        _step("AccountView: debtors changed since a date (FoxPro date filter on CNG_DATE)")
        data = http.get(
            "/api/v3/accountviewdata",
            headers=headers,
            params={
                "BusinessObject": "AR1",
                "PageSize": 5,
                "FilterControlSource1": "CNG_DATE",
                "FilterOperator1": "DateOnOrAfterDate",
                "FilterValueType1": "T",
                "FilterValue1": "{^2026-01-05 08:10:00}",
                "Fields": "SUB_NR,ACCT_NAME,MAIL_BUS,CNG_DATE",
            },
        ).json()
        for row in data.get("CONTACT", []):
            print(f"   {row['SUB_NR']:<8} {row['ACCT_NAME']:<40} {row['MAIL_BUS']:<40} {row['CNG_DATE']}")

        _step("AccountView: create a debtor with the table envelope")
        envelope = {
            "BusinessObject": "AR1",
            "Table": {
                "Definition": {
                    "Name": "CONTACT",
                    "Fields": [
                        {"Name": "RowId", "FieldType": "C"},
                        {"Name": "ACCT_NAME", "FieldType": "C"},
                        {"Name": "SRC_CODE", "FieldType": "C"},
                        {"Name": "MAIL_BUS", "FieldType": "C"},
                        {"Name": "ACCT_NR", "FieldType": "C"},
                    ],
                }
            },
            "TableData": {
                "Data": {"Rows": [{"Values": ["1", "Exercise B.V.", "EXERCISE", "exercise@example.nl", "1300"]}]}
            },
        }
        created = http.post("/api/v3/accountviewdata", headers=headers, json=envelope).json()
        print(f"   created debtor {created['CONTACT'][0]['SUB_NR']} ({created['CONTACT'][0]['ACCT_NAME']})")

        _step("AccountView: the same request with a bad token is refused")
        bad = http.get("/api/v3/accountviewdata", headers={**headers, "Authorization": "Bearer nope"},
                       params={"BusinessObject": "AK1", "PageSize": 1})  # fmt: skip
        print(f"   HTTP {bad.status_code}: {bad.json().get('ErrorMessage')}")


def print_stats(sb: Sandboxes) -> None:
    _step("What each sandbox saw (GET /_sandbox/stats)")
    for name, url in (("AccountView", sb.accountview_url), ("MplusKASSA", sb.mplus_url)):
        stats = httpx.get(f"{url}/_sandbox/stats", timeout=10).json()
        calls = ", ".join(f"{op} {n}" for op, n in sorted(stats["calls"].items()))
        writes = ", ".join(f"{e} {n}" for e, n in sorted(stats["writes"].items())) or "none"
        print(f"   {name:<12} calls: {calls}")
        print(f"   {'':<12} writes: {writes}")


def exercise(sb: Sandboxes) -> int:
    from .exercise_mplus import exercise_mplus

    exercise_accountview(sb)
    exercise_mplus(sb)
    print_stats(sb)
    print("\nBoth sandboxes answered every call. (The sync engine turns this into the full demo.)")
    return 0

"""Capture for support: a run's every request/reply, with no secret and no personal value in any byte."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent / "chaos"))
from chaos_harness import Harness  # noqa: E402

from apicenter_sandbox.accountview.variant import profile_file  # noqa: E402
from apicenter_sandbox.from_capture import load as load_capture  # noqa: E402
from apicenter_sandbox.runner import start_sandboxes  # noqa: E402
from apicenter_sandbox.world import Address, generate  # noqa: E402
from apicenter_sync.capture import Pseudonyms  # noqa: E402
from apicenter_sync.doctor import run_doctor  # noqa: E402
from apicenter_sync.engine import RUN_ORDER  # noqa: E402
from apicenter_sync.flows.base import RunOptions  # noqa: E402

IDENT, SECRET = "ident-Kq7Zx2Vb", "mplus-secret-Wy4Rt9Lp3Mz"
CLIENT_ID, CLIENT_SECRET = "client-Hd5Nq8", "av-client-secret-Tg6Jv1Xc0Bs"
PERSON = {"first_name": "Zebulon", "last_name": "Quixfeather", "email": "zebulon.quixfeather@mailvork.example",
          "phone": "+31 6 9876 5431", "vat_number": "NL987654321B07", "company": "Quixfeather Kramerij B.V."}  # fmt: skip
STREET = Address("Vlinderhofstraat", "217", "-bis", "9912 XQ", "Oudewaterveen", "NL")


def shape(text: str) -> str:
    return "".join("a" if c.isalpha() else "9" if c.isdigit() else c for c in text)


def distinctive_world():
    world = generate(60, 1)
    ordered = {o.customer for o in world.orders if o.customer and o.status == "COMPLETE"}
    customer = next(c for c in world.customers if c.number in ordered and c.company and c.email)
    for name, value in PERSON.items():
        setattr(customer, name, value)
    customer.address = STREET
    customer.delivery = Address("Zwaluwenkade", "88", "", "9913 XR", "Oudewaterveen", "NL")
    return world


def test_a_captured_run_holds_no_secret_and_no_personal_value(tmp_path):
    world = distinctive_world()
    with start_sandboxes(world=world, mplus_ident=IDENT, mplus_secret=SECRET, av_client_id=CLIENT_ID,
                         av_client_secret=CLIENT_SECRET) as sb:  # fmt: skip
        h = Harness(sb, tmp_path / "run")
        folder = tmp_path / "capture"
        h.engine.start_capture(folder)
        try:
            h.run_round()
            httpx.post(f"{sb.accountview_url}/_sandbox/expire-tokens").raise_for_status()  # a refresh mid-run
            h.run_round()
        finally:
            manifest = h.engine.stop_capture()
            h.close()
        oauth = sb.accountview.app.oauth
        tokens = set(oauth._access) | set(oauth._refresh) | set(oauth._codes)
    assert len(tokens) >= 4
    secrets = [IDENT, SECRET, CLIENT_SECRET, *tokens]
    street = [STREET.street, STREET.postcode, STREET.city, "Zwaluwenkade", "9913 XR", "Vlinderhofstraat 217"]
    personal = [*PERSON.values(), "Zebulon Quixfeather", *street, PERSON["email"].upper(), "987654321"]
    files = sorted(folder.iterdir())
    assert manifest["calls"] == len([f for f in files if f.name[0].isdigit()]) > 50
    assert manifest["pseudonymised_values"] > 20 and not manifest["stopped"]
    systems = {json.loads(f.read_text())["system"] for f in files if f.name[0].isdigit()}
    assert systems == {"accountview", "mplus"}
    blob = b"".join(f.read_bytes() for f in files)
    leaks = [v for v in [*secrets, *personal] if v.encode() in blob or v.lower().encode() in blob]
    assert leaks == [], f"captured: {leaks}"
    assert all(f.stat().st_mode & 0o077 == 0 for f in files if f.suffix == ".json"), "owner-only files"
    # The shape stays: the company name is in the capture as a pseudonym of the same length and pattern.
    pseudonymised = [json.loads(f.read_text()) for f in files if f.name[0].isdigit()]
    names = [row["ACCT_NAME"] for rec in pseudonymised if isinstance(rec.get("reply"), dict)
             for row in rec["reply"].get("CONTACT", []) if isinstance(row, dict) and "ACCT_NAME" in row]  # fmt: skip
    assert any(shape(n) == shape(PERSON["company"]) for n in names), names
    token_calls = [r for r in pseudonymised if r["operation"] == "POST token"]
    assert token_calls and all(r["reply"]["access_token"] == "***" for r in token_calls if r.get("reply"))
    assert all(set(r["request"]) == {"grant_type"} for r in token_calls)


def test_pseudonyms_keep_shape_and_stay_stable():
    p = Pseudonyms(b"k" * 32)
    value = "Jan de Vries-Müller, Kerkstraat 12-A, 1234 AB"
    out = p(value)
    assert out != value and len(out) == len(value) and p(value) == out
    assert [c.isdigit() for c in out] == [c.isdigit() for c in value]
    assert [c.isalpha() for c in out] == [c.isalpha() for c in value]
    assert [c for c in out if not c.isalnum()] == [c for c in value if not c.isalnum()]
    assert Pseudonyms(b"j" * 32)(value) != out  # another capture, another key
    assert p("A") != "A" and p("7") != "7"
    assert p.scrub(f"unknown e-mail {value}!") == f"unknown e-mail {out}!"


def test_a_sandbox_seeded_from_a_capture_reproduces_the_tenant_without_its_data(tmp_path):
    """Capture a tenant whose names differ (read everything, write nothing), then serve the capture: the same names
    and shapes, pseudonymised values, and the flows work on it with the captured profile."""
    profile_text = profile_file("renamed").read_text(encoding="utf-8")
    folder = tmp_path / "capture"
    with start_sandboxes(world=distinctive_world(), variant="renamed") as sb:
        h = Harness(sb, tmp_path / "run", extra_config=profile_text)
        h.engine.start_capture(folder)
        try:
            for name in RUN_ORDER:
                assert h.engine.run(name, RunOptions(full=True, dry_run=True)).ok
            assert run_doctor(h.engine).checks
        finally:
            h.engine.stop_capture()
            h.close()
        original = {"articles": len(sb.accountview.app.tables["ARTICLE"]),
                    "debtors": len(sb.accountview.app.tables["CONTACT"])}  # fmt: skip

    tenant = load_capture(folder)
    assert tenant.variant is not None and tenant.variant.objects["STK1"] == "VRD1"
    with start_sandboxes(size=30, from_capture=str(folder)) as sb:
        av = sb.accountview.app
        assert len(av.tables["ARTICLE"]) == original["articles"] and len(av.tables["CONTACT"]) == original["debtors"]
        stored = json.dumps([row for t in av.tables.values() for row in t.rows.values()], default=str)
        stored += json.dumps(list(sb.mplus.app.store.relations.values()), default=str)
        stored += json.dumps(list(sb.mplus.app.store.orders.values()), default=str)
        assert not [v for v in (*PERSON.values(), STREET.street, STREET.city) if v in stored]
        names = [str(r.get("ACCT_NAME")) for r in av.tables["CONTACT"].rows.values()]
        assert any(shape(n) == shape(PERSON["company"]) for n in names)
        h = Harness(sb, tmp_path / "replay", extra_config=(folder / "profile.toml").read_text(encoding="utf-8"))
        try:
            doctor = run_doctor(h.engine, systems=("accountview",))
            assert not [c for c in doctor.refuted if c.id.startswith("accountview.") and c.id != "accountview."
                        "article.numeric_skus"], doctor.text()  # fmt: skip
            results = {r.flow: r for r in h.run_round()}
            assert all(r.ok for r in results.values()), {f: r.error for f, r in results.items()}
            assert results["products"].counts["created"] + results["products"].counts["updated"] > 10, results["products"].failures[:5]
            assert results["customers"].counts["created"] + results["customers"].counts["updated"] > 10
            assert results["orders"].counts["created"] > 0
        finally:
            h.close()


def seeded_personal_values(world) -> set[str]:
    """Every personal value the seeded world holds (apicenter_sandbox/world.py): customers' names, e-mail
    addresses, phones, VAT numbers, addresses, and the till's employees (cashiers)."""
    values: set[str] = set()
    for c in world.customers:
        values |= {c.first_name, c.last_name, f"{c.first_name} {c.last_name}", c.company, c.email, c.phone,
                   c.vat_number}  # fmt: skip
        for address in (c.address, c.delivery):
            if address:
                values |= {address.street, f"{address.street} {address.house_number}", address.postcode}
    values |= {e.name for e in world.employees}
    return {v for v in values if v and len(v) >= 4}


def test_a_capture_of_the_seeded_world_holds_none_of_its_personal_values(tmp_path):
    """Every flow (sales read from the till with their cashiers, debtors written), a doctor run and a second round:
    the capture is grepped for every seeded personal value (before: the cashier's employeeName was kept)."""
    world = generate(60, 1)
    with start_sandboxes(world=world) as sb:
        h = Harness(sb, tmp_path / "run")
        folder = tmp_path / "capture"
        h.engine.start_capture(folder)
        try:
            h.run_round()
            run_doctor(h.engine)
            h.run_round()
        finally:
            manifest = h.engine.stop_capture()
            h.close()
    blob = b"".join(f.read_bytes() for f in sorted(folder.iterdir()))
    assert manifest["calls"] > 50
    assert b"employeeName" in blob and b"relation" in blob  # the capture holds the elements that carry them
    personal = seeded_personal_values(world)
    assert len(personal) > 100
    leaks = sorted(v for v in personal if _found(v, blob) or _found(json.dumps(v).strip('"'), blob))
    assert leaks == [], f"{len(leaks)} seeded personal values in the capture: {leaks[:20]}"


def _found(value: str, blob: bytes) -> bool:
    """``value`` in ``blob``, a number only as a whole number: postcode 59000 is not in a timestamp 1765590001."""
    edge = rb"(?<![0-9])" if value[:1].isdigit() else b""
    tail = rb"(?![0-9])" if value[-1:].isdigit() else b""
    return re.search(edge + re.escape(value.encode()) + tail, blob) is not None


def test_personal_fields_are_decided_from_the_wsdl_and_the_field_dictionary():
    """The rules (apicenter_sync/personal.py) applied to the MplusKASSA WSDL and to the AccountView data dictionary
    the sandbox holds (apicenter_sandbox/accountview/dictionary.py): what a person's data is, and what is not."""
    from apicenter_sandbox.accountview.schema import SCHEMAS
    from apicenter_sync.personal import mplus_rules, person_record, personal_by_name

    rules = mplus_rules()
    order = ["order", "orderList", "GetOrdersResponse", "Body", "Envelope"]  # innermost first, as in a reply
    relation = ["relation", "relationList", "GetRelationsResponse", "Body", "Envelope"]
    employee = ["employee", "employeeList", "GetEmployeesResponse", "Body", "Envelope"]
    line = ["line", "lineList", *order]
    personal = [("employeeName", order), ("relationName", order), ("relationVatNumber", order),
                ("email", relation), ("name", relation), ("companyName", relation), ("zipcode", relation),
                ("name", employee), ("phoneMobile", employee), ("extraText", employee),
                ("day", ["birthDate", *relation]), ("city", ["deliveryAddress", *order]),
                ("email", ["relation", "createRelation", "Body"])]  # fmt: skip
    kept = [("extOrderId", order), ("orderId", order), ("totalInclAmount", order), ("completeState", order),
            ("syncMarker", relation), ("relationNumber", relation), ("employeeNumber", employee),
            ("text", line), ("articleNumber", line), ("quantity", line),
            ("name", ["articleGroups", "articleGroupList", "GetArticleGroupsResponse", "Body"])]  # fmt: skip
    for name, path in personal:
        assert rules.personal(name, path), f"{path[0]}.{name} is a person's data"
    for name, path in kept:
        assert not rules.personal(name, path), f"{path[0]}.{name} is not a person's data"
    contact = [n for n, f in SCHEMAS["CONTACT"].fields.items() if f.vfp_type in "CM"]
    assert person_record(contact)
    for name in ("ACCT_NAME", "MAIL_BUS", "TEL_BUS", "TEL_MOB", "ADDRESS1", "ST_STREET", "POST_CODE", "CITY",
                 "IBAN_NR", "BANK_ACCT", "VAT_NR", "COC_CODE", "MAIN_CONT", "WWW_URL", "COMMENT1", "CNG_USR"):
        assert personal_by_name(name, person_record=True), name
    for table in ("LEDGER", "ARTICLE", "VAT", "WAREHOUS"):
        fields = [n for n, f in SCHEMAS[table].fields.items() if f.vfp_type in "CM"]
        assert not person_record(fields), table
        assert {n for n in fields if personal_by_name(n, person_record=False)} <= {"CNG_USR", "INP_USR"}, table
    assert not personal_by_name("ACCT_NAME", person_record=False)  # a ledger account's name

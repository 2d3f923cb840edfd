"""Table schemas and business objects of the AccountView sandbox.

Three kinds of table:
- **dumped** (CONTACT, VAT, LEDGER, DAILY, DJ_PAGE, DJ_LINE): fields, types, lengths and
  mandatory flags from the public data-dictionary dumps (``dictionary.py``) [D];
- **observed** (ARTICLE, ART_GRP, DEL_ADDR, SO_HDR, SO_LINE): field names seen in client
  code [C]; their types, lengths and mandatory flags are ASSUMPTIONS;
- **assumed** (price lists, stock, warehouses...): everything from ``assumptions.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import assumptions as A
from .dictionary import DUMPED, parse
from .labels import label
from .values import default_for


@dataclass(frozen=True)
class Field:
    name: str
    vfp_type: str
    length: int
    mandatory: bool = False
    label: str = ""  # the data dictionary's description (labels.py)


@dataclass
class TableSchema:
    name: str
    key: str
    fields: dict[str, Field]
    # Mandatory fields the business object fills in when a POST leaves them out.
    auto: frozenset[str] = frozenset()
    # Fields only the server writes (change tracking, computed figures).
    read_only: frozenset[str] = frozenset()
    # field -> table whose key it must name (when not empty).
    references: dict[str, str] = field(default_factory=dict)
    # Unique field combinations besides the key.
    unique: tuple[tuple[str, ...], ...] = ()
    defaults: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.defaults = {name: default_for(f.vfp_type) for name, f in self.fields.items()}


@dataclass(frozen=True)
class BusinessObject:
    code: str
    header: str
    details: tuple[str, ...] = ()
    can_get: bool = True
    can_post: bool = True
    can_put: bool = True
    note: str = ""  # why an operation is refused

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.header, *self.details)


CHANGE_TRACKING = "INP_DATE T 8, INP_USR C 20, CNG_DATE T 8, CNG_USR C 20, CNG_NR I 4"
SERVER_FIELDS = frozenset({"INP_DATE", "INP_USR", "CNG_DATE", "CNG_USR", "CNG_NR"})

# Observed names [C]; the type letters and lengths are ASSUMPTIONS.
OBSERVED: dict[str, str] = {
    "ARTICLE": (
        "ART_CODE C 20!, ART_DESC1 C 40!, AG_CODE C 10, PX_SELL Y 8, COST_PX Y 8, L_COSTPX Y 8, B_COSTPX Y 8, "
        "QTY_AVAIL N 13, QTY_FREE2 N 13, IMG_MEDIUM C 60, IMG_M_DATA M 4"
    ),
    "ART_GRP": "AG_CODE C 10!, AG_DESC C 40",
    "DEL_ADDR": (
        "REC_ID C 10, SUB_NR C 10!, DEL_NAME C 40, ADDRESS1 C 80, POST_CODE C 10, CITY C 35, CNT_CODE C 2, "
        "MAIL_BUS C 50, TEL_BUS C 20"
    ),
    "SO_HDR": (
        "ORD_DATE T 8, INV_DATE T 8, DEL_DATE T 8, RPL_INV C 10!, RPL_DEL C 10, DEL_CODE C 10, COMMENT1 M 4, "
        "COMMENT2 M 4, TO_EMAIL C 50, PD_AMT Y 8, EMP_NR C 10, APX_LIST C 5"
    ),
    "SO_LINE": "DEL_DATE T 8, ART_CODE C 20!, ORD_QTY N 13!, ART_PX Y 8",
}

EXTRA_FIELDS: dict[str, dict[str, A.AssumedField]] = {
    "ARTICLE": A.ARTICLE_FIELDS,
    "ART_GRP": A.ARTICLE_GROUP_FIELDS,
    "DEL_ADDR": A.DELIVERY_ADDRESS_FIELDS,
    "SO_HDR": A.SALES_ORDER_HEADER_FIELDS,
    "SO_LINE": A.SALES_ORDER_LINE_FIELDS,
    "DJ_PAGE": A.JOURNAL_PAGE_FIELDS,
}

REFERENCES: dict[str, dict[str, str]] = {
    "CONTACT": {"ACCT_NR": "LEDGER", "APX_LIST": A.PRICE_LIST.table, "DISC_CODE": A.PAYMENT_CONDITION.table,
                "SHIP_MTH": A.SHIPPING_METHOD.table},
    "DEL_ADDR": {"SUB_NR": "CONTACT"},
    "ARTICLE": {"AG_CODE": "ART_GRP", A.ARTICLE_FIELDS["vat_code"].name: "VAT"},
    "SO_HDR": {"RPL_INV": "CONTACT", "RPL_DEL": "CONTACT", "DEL_CODE": "DEL_ADDR", "APX_LIST": A.PRICE_LIST.table,
               A.SALES_ORDER_HEADER_FIELDS["payment_condition"].name: A.PAYMENT_CONDITION.table,
               A.SALES_ORDER_HEADER_FIELDS["shipping_method"].name: A.SHIPPING_METHOD.table},
    "SO_LINE": {"ART_CODE": "ARTICLE", A.SALES_ORDER_LINE_FIELDS["vat_code"].name: "VAT"},
    "DJ_PAGE": {"DJ_CODE": "DAILY", "SUB_NR": "CONTACT"},
    "DJ_LINE": {"ACCT_NR": "LEDGER", "VAT_CODE": "VAT"},
    A.PRICE_LIST_ITEM.table: {"PL_CODE": A.PRICE_LIST.table, "ART_CODE": "ARTICLE"},
    A.GROUP_DISCOUNT.table: {"AG_CODE": "ART_GRP"},
    A.STOCK.table: {"ART_CODE": "ARTICLE", "WH_CODE": A.WAREHOUSE.table},
    A.DEBTOR_ARTICLE_DISCOUNT.table: {A.DEBTOR_ARTICLE_DISCOUNT.fields["debtor"].name: "CONTACT",
                                      A.DEBTOR_ARTICLE_DISCOUNT.fields["sku"].name: "ARTICLE"},
}  # fmt: skip

# Mandatory in the dictionary but filled in by the business object when absent
# (S4 omits them and succeeds [C]); REC_ID keys are always server-assigned.
AUTO_FILLED: dict[str, frozenset[str]] = {
    "CONTACT": frozenset({"SUB_NR"}),
    "DJ_PAGE": frozenset({"PAGE_NR", "REC_ID"}),
    "DJ_LINE": frozenset({"REC_ID", "SRC_ID", "SRC_TYPE", "TRN_DATE", "PAGE_NR", "DJ_CODE"}),
    "DEL_ADDR": frozenset({"REC_ID"}),
    "SO_HDR": frozenset({"REC_ID", "ORD_NR"}),
    "SO_LINE": frozenset({"REC_ID", "ORD_NR"}),
}

COMPUTED: dict[str, frozenset[str]] = {
    A.STOCK.table: frozenset({A.STOCK.fields["available"].name}),
}

UNIQUE: dict[str, tuple[tuple[str, ...], ...]] = {
    "DJ_PAGE": (("DJ_CODE", "INV_NR"),),  # ASSUMPTION: an invoice number is booked once per journal
}


def _fields_from(table: str, spec: str) -> dict[str, Field]:
    return {name: Field(name, t, length, mand, label(table, name)) for name, t, length, mand in parse(spec)}


def _assumed(f: A.AssumedField) -> Field:
    return Field(f.name, f.vfp_type, f.length, f.mandatory, f.label)


def _build() -> dict[str, TableSchema]:
    specs: dict[str, dict[str, Field]] = {}
    for table, spec in DUMPED.items():
        specs[table] = _fields_from(table, spec)
    for table, spec in OBSERVED.items():
        specs[table] = _fields_from(table, f"{spec}, {CHANGE_TRACKING}")
    for table, extra in EXTRA_FIELDS.items():
        for f in extra.values():
            specs[table][f.name] = _assumed(f)
    for obj in A.OBJECTS.values():
        fields = {f.name: _assumed(f) for f in obj.fields.values()}
        fields.update(_fields_from(obj.table, CHANGE_TRACKING))
        specs[obj.table] = fields
    schemas = {}
    for table, fields in specs.items():
        key = A.TABLE_KEYS.get(table, A.DEFAULT_KEY)
        auto = set(AUTO_FILLED.get(table, ()))
        if key == A.DEFAULT_KEY:
            auto.add(key)
        schemas[table] = TableSchema(
            name=table,
            key=key,
            fields=dict(sorted(fields.items())),  # dictionary order, like the dumps
            auto=frozenset(auto),
            read_only=SERVER_FIELDS | COMPUTED.get(table, frozenset()),
            references=REFERENCES.get(table, {}),
            unique=UNIQUE.get(table, ()),
        )
    for schema in schemas.values():  # a renamed assumption must not leave a dangling reference behind
        for name, target in schema.references.items():
            assert name in schema.fields and target in schemas, f"{schema.name}.{name} -> {target}"
    return schemas


SCHEMAS: dict[str, TableSchema] = _build()

_OBJECTS = [
    BusinessObject("AR1", "CONTACT"),
    BusinessObject("ADDR", "DEL_ADDR"),
    BusinessObject("AK1", "ARTICLE"),
    BusinessObject("AG1", "ART_GRP"),
    BusinessObject("SO1", "SO_HDR", ("SO_LINE",)),
    BusinessObject("DJ2", "DJ_PAGE", ("DJ_LINE",), can_get=False, can_put=False,
                   note="DJ2 books journal pages (POST only); read them with DJ2P; booked pages cannot be updated"),
    BusinessObject("DJ2P", "DJ_PAGE", ("DJ_LINE",), can_post=False, can_put=False,
                   note="DJ2P is the read view of journal pages; book them with POST DJ2"),
    BusinessObject("VA1", "VAT"),
    BusinessObject("GL1", "LEDGER"),
    BusinessObject("DJ1", "DAILY"),
    *(BusinessObject(obj.code, obj.table) for obj in A.OBJECTS.values()),
]  # fmt: skip
OBJECTS: dict[str, BusinessObject] = {bo.code: bo for bo in _OBJECTS}

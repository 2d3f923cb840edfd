"""Version, sync markers, branches, VAT groups, employees, price groups, payment and delivery methods, turnover
groups."""

from __future__ import annotations

from .registry import limited, operation

API_VERSION = (67, 1, 3)  # the version of the bundled WSDL


@operation("getApiVersion")
def get_api_version(sb, params: dict) -> dict:
    major, minor, revision = API_VERSION
    return {
        "majorNumber": major, "minorNumber": minor, "revisionNumber": revision,
        "serviceMajorNumber": major, "serviceMinorNumber": minor, "serviceRevisionNumber": revision,
        "inDebugMode": False, "isSlaveApi": False, "slaveApiType": "NO-SLAVE-API",
        "serviceVersionDisplayString": f"{major}.{minor}.{revision} (apicenter sandbox)",
    }  # fmt: skip


@operation("getCurrentSyncMarkers")
def get_current_sync_markers(sb, params: dict) -> dict:
    m = sb.store.markers
    return {
        "articleSyncMarker": m["article"], "articleGroupSyncMarker": m["articleGroup"],
        "relationSyncMarker": m["relation"], "employeeSyncMarker": m["employee"], "invoiceSyncMarker": m["invoice"],
        "receiptSyncMarker": m["receipt"], "orderSyncMarker": m["order"], "stockId": m["stock"],
    }  # fmt: skip


@operation("getBranches")
def get_branches(sb, params: dict) -> dict:
    return {"branches": {"branch": list(sb.store.branches.values())}}


@operation("getVatGroupList")
def get_vat_group_list(sb, params: dict) -> dict:
    return {"vatGroup": list(sb.store.vat_groups)}


@operation("getPriceGroupList")
def get_price_group_list(sb, params: dict) -> dict:
    return {"priceGroup": list(sb.store.price_groups.values())}


@operation("getPaymentMethods")
def get_payment_methods(sb, params: dict) -> dict:
    return {"paymentMethodList": {"paymentMethod": list(sb.store.payment_methods)}}


@operation("getDeliveryMethods")
def get_delivery_methods(sb, params: dict) -> dict:
    return {"deliveryMethodList": {"deliveryMethod": list(sb.store.delivery_methods)}}


@operation("getCustomFieldLists")
def get_custom_field_lists(sb, params: dict) -> dict:
    fields = [{"fieldName": name, "dataType": kind, "isRequired": False}
              for name, kind in sb.store.article_custom_fields.items()]  # fmt: skip
    return {"articleCustomFieldList": {"customField": fields}, "employeeCustomFieldList": {"customField": []},
            "relationCustomFieldList": {"customField": []}}  # fmt: skip


@operation("getEmployees")
def get_employees(sb, params: dict) -> dict:
    req = params.get("request") or {}
    store = sb.store
    wanted = set(req.get("employeeNumbers") or ())
    keys = store.index["employee"].since(req.get("syncMarker") or 0)
    found = (store.employees[k] for k in keys if not wanted or k in wanted)
    return {"employeeList": {"employee": list(limited(found, req.get("syncMarkerLimit")))}}


@operation("getEmployee")
def get_employee(sb, params: dict) -> dict:
    employee = sb.store.employees.get(params["employeeNumber"])
    if employee is None:
        return {"result": "GET-EMPLOYEE-RESULT-NOT-FOUND"}
    return {"result": "GET-EMPLOYEE-RESULT-OK", "employee": employee}


@operation("getTurnoverGroups")
def get_turnover_groups(sb, params: dict) -> dict:
    return {"turnoverGroupList": {"turnoverGroup": list(sb.store.turnover_groups)}}

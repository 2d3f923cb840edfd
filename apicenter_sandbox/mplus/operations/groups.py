"""Article groups ("webgroups"): a tree, read with getArticleGroups, written with new/updateArticleGroup."""

from __future__ import annotations

from .registry import limited, operation


def _tree(store, number: int, with_members: dict | None) -> dict:
    group = {**store.article_groups[number]}
    children = sorted((g for g, parent in store.group_parent.items() if parent == number), key=_sort_key(store))
    group["subGroupList"] = {"articleGroups": [_tree(store, c, with_members) for c in children]}
    if with_members is not None:
        products, articles = with_members.get(number, ([], []))
        group["productNumbers"] = {"number": products}
        group["articleNumbers"] = {"number": articles}
    return group


def _sort_key(store):
    return lambda g: (store.article_groups[g]["sortOrder"], g)


def _members(store) -> dict[int, tuple[list[int], list[int]]]:
    members: dict[int, tuple[list[int], list[int]]] = {}
    for product in store.products.values():
        for group in product.get("groupNumbers") or ():
            products, articles = members.setdefault(group, ([], []))
            products.append(product["productNumber"])
            articles.extend(a["articleNumber"] for a in product["articleList"]["article"])
    return members


@operation("getArticleGroups")
def get_article_groups(sb, params: dict) -> dict:
    """Without a syncMarker: the tree from the top (or from ``groupNumbers``).

    With one: the changed groups, flat and ordered by marker, each with its
    current subtree (the WSDL does not say more)."""
    req = params["request"]
    store = sb.store
    members = _members(store) if req.get("retrieveArticleNumbers") else None
    wanted = set(req.get("groupNumbers") or ())
    if req.get("syncMarker") is not None:
        keys = (k for k in store.index["articleGroup"].since(req["syncMarker"]) if not wanted or k in wanted)
        groups = [_tree(store, k, members) for k in limited(keys, req.get("syncMarkerLimit"))]
    else:
        tops = wanted or {g for g, parent in store.group_parent.items() if parent == 0}
        tops = sorted((g for g in tops if g in store.article_groups), key=_sort_key(store))
        groups = [_tree(store, g, members) for g in limited(tops, req.get("syncMarkerLimit"))]
    return {"articleGroupList": {"articleGroups": groups}}


@operation("newArticleGroup", write=True)
def new_article_group(sb, params: dict) -> dict:
    req = params["request"]
    store = sb.store
    parent = req["parentGroupNumber"]
    if parent and parent not in store.article_groups:
        return {"result": "NEW-ARTICLE-GROUP-RESULT-PARENT-NOTFOUND", "groupNumber": 0}
    number = max(store.article_groups, default=0) + 1
    marker = store.touch("articleGroup", number, None)
    store.article_groups[number] = {
        "groupNumber": number, "syncMarker": marker, "name": req["name"], "text": req["text"],
        "sortOrder": req.get("sortOrder") or 0,
    }  # fmt: skip
    store.group_parent[number] = parent
    sb.stats.write("articleGroup")
    return {"result": "NEW-ARTICLE-GROUP-RESULT-OK", "groupNumber": number}


@operation("updateArticleGroup", write=True)
def update_article_group(sb, params: dict) -> dict:
    req = params["request"]
    store = sb.store
    number = req["groupNumber"]
    old = store.article_groups.get(number)
    if old is None:
        return {"result": "SAVE-ARTICLE-GROUP-RESULT-NOT-FOUND"}
    parent = req.get("parentGroupNumber")
    if parent is not None:
        # A parent must exist and must not sit below the group itself.
        walk = parent
        while walk:
            if walk == number or walk not in store.article_groups:
                return {"result": "SAVE-ARTICLE-GROUP-RESULT-FAILED"}
            walk = store.group_parent.get(walk, 0)
        store.group_parent[number] = parent
    changes = {k: req[k] for k in ("name", "text", "sortOrder") if req.get(k) is not None}
    marker = store.touch("articleGroup", number, old["syncMarker"])
    store.article_groups[number] = {**old, **changes, "syncMarker": marker}
    sb.stats.write("articleGroup")
    return {"result": "SAVE-ARTICLE-GROUP-RESULT-OK"}

"""What goes when an object is deleted: a namespace's content, a CRD's custom resources, and
(transitively) the objects that name it in their ownerReferences, as the namespace controller
and the garbage collector remove them (here at once rather than eventually)."""

from __future__ import annotations

from typing import Any

Key = tuple[str, str, str]  # (plural, namespace, name)


def dependants(objects: dict[Key, dict[str, Any]], plural: str, deleted: dict[str, Any]) -> list[Key]:
    name, uid = deleted["metadata"]["name"], deleted["metadata"]["uid"]
    if plural == "namespaces":
        return [k for k in objects if k[1] == name]
    if plural == "customresourcedefinitions":
        served = (deleted.get("spec") or {}).get("names", {}).get("plural", "")
        return [k for k in objects if k[0] == served]
    found: list[Key] = []
    pending = [uid]
    while pending:
        owner = pending.pop()
        for key, obj in objects.items():
            refs = obj["metadata"].get("ownerReferences") or []
            if key not in found and any(r.get("uid") == owner for r in refs):
                found.append(key)
                pending.append(obj["metadata"]["uid"])
    return found

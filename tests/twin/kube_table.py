"""`meta.k8s.io/v1` Table responses, what `kubectl get` (without -o) asks for.

Columns follow the real server's printers for the core kinds the twin serves, and the CRD's
additionalPrinterColumns for custom resources; other kinds get NAME and AGE.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from tests.twin.kube_resources import ResourceType

Column = tuple[str, str, Callable[[dict[str, Any]], Any]]  # (name, type, cell)


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 730:
        return f"{days}d"
    years = days // 365
    return f"{years}y{days % 365}d" if days < 2920 and days % 365 else f"{years}y"


def _age(now: datetime) -> Callable[[dict[str, Any]], str]:
    def cell(obj: dict[str, Any]) -> str:
        return _age_of(obj.get("metadata", {}).get("creationTimestamp"), now)

    return cell


def _age_of(timestamp: Any, now: datetime) -> str:
    if not timestamp:
        return "<unknown>"
    created = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    return human_duration((now - created).total_seconds())


def _service_external_ip(svc: dict[str, Any]) -> str:
    spec = svc.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    if kind == "LoadBalancer":
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        addresses = [i.get("ip") or i.get("hostname") for i in ingress]
        return ",".join(a for a in addresses if a) or "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName", "<none>")
    return ",".join(spec.get("externalIPs") or []) or "<none>"


def _service_ports(svc: dict[str, Any]) -> str:
    parts = []
    for port in (svc.get("spec") or {}).get("ports") or []:
        node = f":{port['nodePort']}" if port.get("nodePort") else ""
        parts.append(f"{port.get('port')}{node}/{port.get('protocol', 'TCP')}")
    return ",".join(parts) or "<none>"


def _pod_ready(pod: dict[str, Any]) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _configmap_data(cm: dict[str, Any]) -> int:
    return len(cm.get("data") or {}) + len(cm.get("binaryData") or {})


def _pod_restarts(pod: dict[str, Any]) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return str(sum(s.get("restartCount", 0) for s in statuses))


def _event_object(event: dict[str, Any]) -> str:
    involved = event.get("involvedObject") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


def _event_columns(now: datetime) -> list[Column]:
    """What `kubectl get events` shows (the event name is a priority-1 column, not printed)."""

    def last_seen(event: dict[str, Any]) -> str:
        created = event["metadata"].get("creationTimestamp")
        return _age_of(event.get("lastTimestamp") or event.get("eventTime") or created, now)

    return [("Last Seen", "string", last_seen),
            ("Type", "string", lambda o: o.get("type", "")),
            ("Reason", "string", lambda o: o.get("reason", "")),
            ("Object", "string", _event_object),
            ("Message", "string", lambda o: o.get("message", ""))]


def _core_columns(plural: str) -> list[Column]:
    columns: dict[str, list[Column]] = {
        "secrets": [("Type", "string", lambda o: o.get("type", "")),
                    ("Data", "integer", lambda o: len(o.get("data") or {}))],
        "configmaps": [("Data", "integer", _configmap_data)],
        "services": [("Type", "string", lambda o: (o.get("spec") or {}).get("type", "ClusterIP")),
                     ("Cluster-IP", "string", lambda o: (o.get("spec") or {}).get("clusterIP", "<none>")),
                     ("External-IP", "string", _service_external_ip),
                     ("Port(s)", "string", _service_ports)],
        "pods": [("Ready", "string", _pod_ready),
                 ("Status", "string", lambda o: (o.get("status") or {}).get("phase", "Unknown")),
                 ("Restarts", "string", _pod_restarts)],
        "namespaces": [("Status", "string", lambda o: (o.get("status") or {}).get("phase", ""))],
        "statefulsets": [("Ready", "string", lambda o: f"{(o.get('status') or {}).get('readyReplicas', 0)}/"
                                                       f"{(o.get('spec') or {}).get('replicas', 1)}")],
    }
    return columns.get(plural, [])


def _json_path(obj: Any, path: str) -> Any:
    for part in path.strip().lstrip(".").split("."):
        if not part:
            continue
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _crd_columns(crd: dict[str, Any], version: str, now: datetime) -> list[Column]:
    versions = (crd.get("spec") or {}).get("versions") or []
    served = [v for v in versions if v.get("name") == version]
    printer = (served[0].get("additionalPrinterColumns") or []) if served else []
    columns: list[Column] = []
    for col in printer:
        path, kind = col.get("jsonPath", ""), col.get("type", "string")
        if kind == "date":
            columns.append((col["name"], "date", partial(_date_cell, path=path, now=now)))
        else:
            columns.append((col["name"], kind, partial(_json_path, path=path)))
    return columns


def _date_cell(obj: dict[str, Any], path: str, now: datetime) -> str:
    return _age_of(_json_path(obj, path), now)


def _row_object(obj: dict[str, Any], include_object: str) -> dict[str, Any] | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata", {})}


def to_table(rt: ResourceType, objects: list[dict[str, Any]], resource_version: str, now: datetime,
             include_object: str = "Metadata", crd: dict[str, Any] | None = None) -> dict[str, Any]:
    if crd is not None:
        extra = _crd_columns(crd, rt.version, now)
        has_age = any(kind == "date" for _, kind, _ in extra)
        columns = [("Name", "string", lambda o: o["metadata"]["name"]), *extra]
        if not has_age:
            columns.append(("Age", "date", _age(now)))
    elif rt.plural == "events":
        columns = _event_columns(now)
    else:
        columns = [("Name", "string", lambda o: o["metadata"]["name"]), *_core_columns(rt.plural),
                   ("Age", "string", _age(now))]
    definitions = [{"name": name, "type": "string" if kind == "date" else kind,
                    "format": "name" if name == "Name" else "", "description": "", "priority": 0}
                   for name, kind, _ in columns]
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": [cell(obj) for _, _, cell in columns]}
        shown = _row_object(obj, include_object)
        if shown is not None:
            row["object"] = shown
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": definitions, "rows": rows}

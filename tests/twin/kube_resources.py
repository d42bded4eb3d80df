"""The resource types the Kubernetes API twin serves, as discovery describes them."""

from __future__ import annotations

from dataclasses import dataclass

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_ONLY_VERBS = ("get", "list", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    # The object has a spec whose changes bump metadata.generation.
    has_generation: bool = False
    # Writes to the main resource keep the stored status, even from in-process callers (who
    # must use subresource="status"); /status writes change only status.
    status_subresource: bool = False
    # Served only while this CustomResourceDefinition exists in the store (a real server
    # has no such endpoint before the CRD is installed).
    crd_name: str = ""
    categories: tuple[str, ...] = ()
    # Extra subresources listed by discovery: name -> verbs.
    subresources: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """`secrets` or `elasticsearches.elasticsearch.k8s.elastic.co`, as error messages say."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def has_status_subresource(self) -> bool:
        return any(name == "status" for name, _ in self.subresources)

    @property
    def is_custom(self) -> bool:
        return bool(self.crd_name)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


_STATUS = (("status", ("get", "patch", "update")),)

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "Namespace", "namespaces", "namespace", False, ("ns",),
                 ("create", "delete", "get", "list", "patch", "update", "watch"), subresources=_STATUS),
    ResourceType("", "v1", "Node", "nodes", "node", False, ("no",), subresources=_STATUS),
    ResourceType("", "v1", "Secret", "secrets", "secret", True),
    ResourceType("", "v1", "ConfigMap", "configmaps", "configmap", True, ("cm",)),
    ResourceType("", "v1", "Service", "services", "service", True, ("svc",),
                 ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
                 categories=("all",), subresources=_STATUS),
    ResourceType("", "v1", "Endpoints", "endpoints", "endpoints", True, ("ep",)),
    ResourceType("", "v1", "Pod", "pods", "pod", True, ("po",), categories=("all",),
                 subresources=_STATUS + (("log", ("get",)), ("portforward", ("create", "get")))),
    ResourceType("", "v1", "Event", "events", "event", True, ("ev",)),
    ResourceType("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", True, ("sa",)),
    ResourceType("apps", "v1", "StatefulSet", "statefulsets", "statefulset", True, ("sts",),
                 has_generation=True, categories=("all",), subresources=_STATUS),
    ResourceType("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", True),
    ResourceType("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
                 "customresourcedefinition", False, ("crd", "crds"), has_generation=True,
                 categories=("api-extensions",), subresources=_STATUS),
    ResourceType("elasticsearch.k8s.elastic.co", "v1", "Elasticsearch", "elasticsearches", "elasticsearch",
                 True, ("es",), has_generation=True, status_subresource=True,
                 crd_name="elasticsearches.elasticsearch.k8s.elastic.co", categories=("elastic",),
                 subresources=_STATUS),
    ResourceType("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
                 "selfsubjectaccessreview", False, verbs=("create",)),
)

BY_PLURAL: dict[str, ResourceType] = {rt.plural: rt for rt in RESOURCE_TYPES}


def resource_type(plural: str) -> ResourceType:
    """The type served under `plural`; KeyError for an unknown one."""
    return BY_PLURAL[plural]


def find(group: str, version: str, plural: str) -> ResourceType | None:
    rt = BY_PLURAL.get(plural)
    if rt is None or rt.group != group or rt.version != version:
        return None
    return rt


def group_versions() -> list[tuple[str, str]]:
    """(group, version) pairs of the named groups, in first-seen order."""
    seen: list[tuple[str, str]] = []
    for rt in RESOURCE_TYPES:
        if rt.group and (rt.group, rt.version) not in seen:
            seen.append((rt.group, rt.version))
    return seen

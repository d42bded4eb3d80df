"""What the user asked for, as plain data. The CLI fills these; commands read them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SideTarget:
    """Where one side's Elasticsearch lives and how to reach it."""

    kubeconfig: str | None  # None: $KUBECONFIG (several paths allowed) or ~/.kube/config
    context: str | None  # None: the kubeconfig's current context
    namespace: str | None  # None: the context's namespace, else "default"
    es_name: str | None  # None: the only Elasticsearch in the namespace
    es_url: str | None = None  # explicit REST URL instead of a port-forward
    es_api_key_env: str | None = None  # name of an env var holding an ES API key
    es_username_env: str | None = None  # names of env vars holding a user and password
    es_password_env: str | None = None
    # with es_url: send the elastic password read from the cluster to that URL (asked for)
    es_url_elastic_user: bool = False


@dataclass(frozen=True)
class Scope:
    """Both sides plus the link(s) in scope; shared by doctor, fix and collect."""

    local: SideTarget
    remote: SideTarget | None  # None: no access to the remote environment
    alias: str | None = None  # None: every alias configured on the local cluster
    timeout: float = 5.0  # seconds, per network operation
    # --index: remote index patterns whose cross-cluster reads doctor tries through each link
    indices: tuple[str, ...] = ()
    as_user: str | None = None  # --as-user: make those reads as this local user (run_as)
    follows: tuple[str, ...] = ()  # --follow: remote leader indices whose replication doctor judges
    # -A / several --remote-context: the fleet (every Elasticsearch of the local context, each
    # alias matched to its remote among `remotes`); `remote` is then None
    all_namespaces: bool = False
    remotes: tuple[SideTarget, ...] = ()

    @property
    def fleet(self) -> bool:
        return self.all_namespaces or len(self.remotes) > 1


@dataclass(frozen=True)
class DoctorOptions:
    scope: Scope
    output: str = "table"  # table | json | yaml | junit | markdown
    only: tuple[str, ...] = ()  # ids or globs
    skip: tuple[str, ...] = ()
    bundle: str | None = None  # analyse this bundle offline instead of live
    remote_bundle: str | None = None
    fail_on: str = "error"  # error | warning
    ignore: tuple[str, ...] = ()  # ID[:alias][=reason]
    ignore_file: str | None = None  # YAML, see kubectl_eckrc/suppress.py
    wait: float | None = None  # seconds: re-run until exit 0 or this long has passed
    color: bool | None = None  # None: on a TTY unless NO_COLOR
    debug: bool = False


@dataclass(frozen=True)
class FixOptions:
    scope: Scope
    apply: bool = False
    yes: bool = False
    wait: bool = False
    timeout_wait: float = 600.0
    expose: str = "loadbalancer"  # loadbalancer | nodeport | none
    indices: tuple[str, ...] = ("*",)
    replication_indices: tuple[str, ...] = ()
    expiration: str | None = None  # e.g. "90d"; None = no expiry
    server_name: str | None = None
    proxy_address: str | None = None
    widen_key_access: bool = False  # let widen-key-access add the --index patterns to the key's access
    set_certificate_identity: bool = False  # let setup-signing set the key's certificate_identity
    output: str = "table"  # table | json
    color: bool | None = None
    debug: bool = False


@dataclass(frozen=True)
class CollectOptions:
    scope: Scope
    output_file: str
    debug: bool = False


@dataclass(frozen=True)
class ChecksOptions:
    check_id: str | None = None
    output: str = "table"  # table | json | markdown

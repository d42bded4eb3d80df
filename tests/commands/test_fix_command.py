"""Which alias `fix` works on when none is given."""

from __future__ import annotations

from kubectl_eckrc.commands.fix import link_aliases
from tests.snapshot_builder import ALIAS, healthy_pair


def test_a_mistyped_credential_key_is_not_a_second_remote_cluster() -> None:
    pair = healthy_pair()
    keys = pair.local.secrets["remote-api-keys"].keys
    keys["cluster.remote.remotes-es.credentials"] = keys.pop(f"cluster.remote.{ALIAS}.credentials")
    pair.aliases = [ALIAS, "remotes-es"]  # what the collector lists: settings and credential keys
    assert link_aliases(pair.build()) == [ALIAS]


def test_two_registered_links_both_count() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("mode", "proxy")
    pair.local.settings["persistent"]["cluster.remote.other.mode"] = "proxy"
    pair.aliases = [ALIAS, "other"]
    assert link_aliases(pair.build()) == [ALIAS, "other"]

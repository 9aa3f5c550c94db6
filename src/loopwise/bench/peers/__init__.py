"""Peer libraries behind one interface: modAL, small-text and scikit-activeml strategies by name.

Names are ``<library>:<method>`` (``modal:margin``, ``small_text:kcenter``,
``skactiveml:qbc``), where ``method`` is the loopwise strategy the peer
implements. The libraries themselves are imported only when a strategy
selects, so listing names needs none of them (``pip install 'loopwise[bench]'``).
"""

from __future__ import annotations

from loopwise.bench.peers import _modal, _skactiveml, _small_text
from loopwise.bench.peers._base import FrozenClassifier, PeerQuery, PeerStrategy, ProtocolClassifier
from loopwise.errors import ConfigError

_PEERS: dict[str, type[PeerStrategy]] = {
    f"{cls.prefix}:{cls.method}": cls
    for module in (_modal, _small_text, _skactiveml)
    for cls in module.STRATEGIES
}

#: Display name of each library prefix, and the distribution that installs it.
LIBRARIES: dict[str, tuple[str, str]] = {
    "modal": ("modAL", "modAL-python"),
    "small_text": ("small-text", "small-text"),
    "skactiveml": ("scikit-activeml", "scikit-activeml"),
}


def peer_names() -> list[str]:
    """Every peer strategy name, sorted."""
    return sorted(_PEERS)


def is_peer(name: str) -> bool:
    """True for a ``<library>:<method>`` name of a known library prefix."""
    return name.split(":", 1)[0] in LIBRARIES and ":" in name


def make_peer(name: str) -> PeerStrategy:
    """The peer strategy called ``name``; an unknown name lists the known ones."""
    try:
        return _PEERS[name]()
    except KeyError:
        raise ConfigError(f"unknown peer strategy {name!r}; known: {', '.join(peer_names())}") from None


def peer_versions() -> dict[str, str | None]:
    """Installed version of each peer distribution (``None`` when missing)."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for display, distribution in LIBRARIES.values():
        try:
            out[display] = version(distribution)
        except PackageNotFoundError:
            out[display] = None
    return out


__all__ = [
    "LIBRARIES",
    "FrozenClassifier",
    "PeerQuery",
    "PeerStrategy",
    "ProtocolClassifier",
    "is_peer",
    "make_peer",
    "peer_names",
    "peer_versions",
]

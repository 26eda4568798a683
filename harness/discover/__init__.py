"""``ocpp-harness discover``: read what a station advertises and write a capability
declaration for the engineer to confirm.

    from harness.discover import discover, declaration_yaml
    found = await discover(host="0.0.0.0", port=9000, timeout_s=300)
    Path("my-station.yaml").write_text(declaration_yaml(found))
"""

from harness.discover.advertised import Discovered, Origin, declaration_yaml, differences
from harness.discover.probe import DiscoveryError, advertised_by, discover

__all__ = [
    "Discovered",
    "DiscoveryError",
    "Origin",
    "advertised_by",
    "declaration_yaml",
    "differences",
    "discover",
]

"""ProMISe (Wang et al., arXiv 2403.04164): SAM frozen, point prompts learned by an
auto-prompting module, mask patterns shifted by IPS tokens; samseg's multi-class and box
extensions. See ``documentation/promise.md``."""

from samseg.models.promise.network import ABSENT_LOGIT, ProMISeNetwork, ProMISeOutput
from samseg.models.promise.settings import ProMISeSettings, apm_blocks
from samseg.models.promise.spec import ProMISeSpec, build_promise_network

__all__ = [
    "ABSENT_LOGIT",
    "ProMISeNetwork",
    "ProMISeOutput",
    "ProMISeSettings",
    "ProMISeSpec",
    "apm_blocks",
    "build_promise_network",
]

"""The tables of impact: each subdomain defines its own; Django finds them here."""

from cuntao.impact.indicators.models import *  # noqa: F401,F403
from cuntao.impact.evaluation.models import *  # noqa: F401,F403

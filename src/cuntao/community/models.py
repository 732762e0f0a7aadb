"""The tables of community: each subdomain defines its own; Django finds them here."""

from cuntao.community.training.models import *  # noqa: F401,F403
from cuntao.community.centre.models import *  # noqa: F401,F403

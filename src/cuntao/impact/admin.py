from cuntao.impact.indicators import admin as _indicators_admin  # noqa: F401
from cuntao.impact.evaluation import admin as _evaluation_admin  # noqa: F401

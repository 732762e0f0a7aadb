from cuntao.community.training import admin as _training_admin  # noqa: F401
from cuntao.community.centre import admin as _centre_admin  # noqa: F401

"""The impact API: one router gathering each subdomain's."""

from ninja import Router

from cuntao.impact.indicators.api import router as indicators_router
from cuntao.impact.evaluation.api import router as evaluation_router

router = Router()
router.add_router("", indicators_router)
router.add_router("", evaluation_router)

"""The community API: one router gathering each subdomain's."""

from ninja import Router

from cuntao.community.training.api import router as training_router
from cuntao.community.centre.api import router as centre_router

router = Router()
router.add_router("", training_router)
router.add_router("", centre_router)

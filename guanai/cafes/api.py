from guanai.core.api import Router

router = Router()

"""The loyalty API: members. Mounted in kehu/api.py."""

from ninja import Router

router = Router()

"""The loyalty API: coupons. Mounted in kehu/api.py."""

from ninja import Router

router = Router()

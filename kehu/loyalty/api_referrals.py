"""The loyalty API: referrals. Mounted in kehu/api.py."""

from ninja import Router

router = Router()

from kehu.webhooks.tests.receiver import receiver

__all__ = ["receiver"]

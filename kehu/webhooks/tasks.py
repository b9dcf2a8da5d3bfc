"""Background work of the webhooks: send what is due. Safe to run twice and in parallel: each
delivery is claimed by one conditional UPDATE before it is sent."""

from django.tasks import task

from kehu.webhooks.services import send_due_deliveries


@task
def send_due_deliveries_task() -> int:
    return send_due_deliveries()

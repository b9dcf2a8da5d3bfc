"""Background jobs of the customer archive; each is safe to run twice."""

from django.tasks import task

from kehu.customers.pool import return_neglected_customers


@task
def return_neglected_customers_task() -> int:
    """Move customers without follow-up for the configured days back to the pool."""
    return return_neglected_customers()

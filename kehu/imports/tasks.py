"""Background work of the imports app: a queued dry run or import.

Safe to run twice: the task claims the job only while it is queued, and a valid-rows import
run again goes on after the last line it wrote.
"""

from django.tasks import task

from kehu.imports.jobs import run_job


@task
def run_import_job_task(job_id: int, actor_id: int) -> None:
    run_job(job_id, actor_id)

"""Background work of the registry. Tasks take IDs; enqueue with core.tasks.enqueue_on_commit."""

from celery import shared_task


@shared_task(name="registry.resident_import_run")
def resident_import_run(job_id: int) -> str:
    """Run a confirmed Excel import (all of the file or nothing; see registry.excel)."""
    from .excel import import_job_run

    try:
        job = import_job_run(job_id)
    except Exception:  # noqa: BLE001 - the job row already tells the user; don't crash the eager caller
        return "failed"
    return job.state

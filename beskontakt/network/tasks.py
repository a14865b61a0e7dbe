"""Background work of the network app: polling nodes on their intervals, sample retention."""

from __future__ import annotations

from celery import shared_task

# Nodes per Celery task: each task polls its batch concurrently and writes in bulk.
BATCH = 50


@shared_task(name="beskontakt.network.tasks.schedule_polls", ignore_result=True)
def schedule_polls() -> int:
    """Send the nodes whose poll interval has passed to ``poll_nodes``, in batches; returns how many."""
    from .polling import due_nodes

    due = due_nodes()
    for start in range(0, len(due), BATCH):
        poll_nodes.delay(due[start : start + BATCH])
    return len(due)


@shared_task(name="beskontakt.network.tasks.poll_nodes", ignore_result=True, soft_time_limit=200, time_limit=240)
def poll_nodes(node_ids: list[int]) -> dict[str, int]:
    """Poll these nodes over SNMP and store samples and port states."""
    from . import polling

    return polling.poll_nodes(node_ids)


@shared_task(name="beskontakt.network.tasks.purge_samples", ignore_result=True)
def purge_samples() -> int:
    """Delete port samples older than the retention period (in batches)."""
    from . import actions

    return actions.purge_samples()

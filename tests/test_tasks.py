"""The one task registry (server/net/tasks.py): shutdown waits for work, cancels
requests at once, and a service runs until its owner cancels it."""

from __future__ import annotations

import asyncio

from server.net.tasks import Tasks


async def test_each_kind_of_task_ends_as_shutdown_says():
    tasks = Tasks()
    release = asyncio.Event()

    async def save():
        await release.wait()
        return "saved"

    async def forever():
        await asyncio.Event().wait()

    work = tasks.spawn(save())
    request = tasks.spawn_request(forever())
    service = tasks.spawn_service(forever(), "heartbeat")
    await asyncio.sleep(0)
    assert len(tasks) == 1                             # only the work is waited for
    await tasks.cancel_requests(timeout=5)
    assert request.cancelled() and not work.done() and not service.done()
    release.set()
    await tasks.wait(timeout=5)
    assert work.result() == "saved" and len(tasks) == 0 and not service.done()
    await tasks.cancel_services(timeout=5)
    assert service.cancelled() and service.get_name() == "heartbeat"

"""Machine-readable logs: a JSON formatter, and one line per Celery task.

A task queued while a request (or another task) runs carries that request's id in a
message header; the worker puts the id back in place while the task runs, so the task's
line, the tasks it queues and the webhooks it delivers carry it too. Imported by the
Celery app (config/celery.py), so it holds no models.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from celery import signals

from core.request_id import request_id_get, request_id_new, request_id_reset, request_id_set

task_log = logging.getLogger("kindred.tasks")

# The message header a task's request id travels in.
TASK_HEADER = "kindred_request_id"


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message, and its `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))


@signals.before_task_publish.connect(dispatch_uid="kindred.request_id.publish")
def _send_request_id(headers: dict | None = None, **kwargs) -> None:
    request_id = request_id_get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def _task_request_id(task) -> str | None:
    value = getattr(task.request, TASK_HEADER, None)
    if value is None:
        value = (task.request.headers or {}).get(TASK_HEADER)
    return value


_running: dict[str, tuple[float, object]] = {}


@signals.task_prerun.connect(dispatch_uid="kindred.request_id.prerun")
def _task_started(task_id: str, task, **kwargs) -> None:
    # A task run in place (eager, in tests) keeps the id of what runs it; one queued by no
    # request (the beat, a shell) gets an id of its own, which what it causes carries on.
    token = request_id_set(_task_request_id(task) or request_id_get() or request_id_new())
    _running[task_id] = (time.perf_counter(), token)


@signals.task_postrun.connect(dispatch_uid="kindred.request_id.postrun")
def _task_finished(task_id: str, task, state: str | None = None, **kwargs) -> None:
    started, token = _running.pop(task_id, (None, None))
    delivery = task.request.delivery_info or {}
    task_log.info(
        "task",
        extra={
            "fields": {
                "request_id": request_id_get(),
                "task": task.name,
                "task_id": task_id,
                "queue": delivery.get("routing_key"),
                "state": state,
                "retries": task.request.retries,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2)
                if started is not None
                else None,
            }
        },
    )
    if token is not None:
        request_id_reset(token)

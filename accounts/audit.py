"""Write audit events: in the caller's transaction, with the request's id and address."""

from __future__ import annotations

from typing import Any

from django.db import models

from accounts.models import AuditEvent, User
from config.observability import client_ip_var, request_id_var


def audit_record(
    *,
    action: str,
    obj: models.Model | None = None,
    actor: User | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one event. Never pass notes, codes or email addresses in before/after."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(getattr(obj, "public_id", None) or getattr(obj, "pk", "")) if obj else ""
    request_id = request_id_var.get()
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        request_id="" if request_id == "-" else request_id,
        client_ip=client_ip_var.get(),
    )

"""The one way Coachdesk sends email: a subject, a text and an HTML template,
delivered by the task worker.

Templates live in templates/emails/<name>_subject.txt, <name>.txt and <name>.html;
the text and HTML parts extend emails/base.txt and emails/base.html, which hold
the one sign-off and the footer that fits the recipient's role. Subjects and text
parts are plain text, rendered by the "text" template engine (autoescape off);
the HTML part is escaped as every page is. `build_email` renders a message for
one person; `send_email` renders it now and enqueues its delivery as a task row
in the caller's transaction (django-tasks-db): a rolled-back change leaves no
task and so sends nothing; a committed one is never lost, because the row is
there for a worker (`manage.py db_worker`) to pick up, even after a crash. A
failed send is retried with backoff (`email_retry_failed`), then left failed for
staff to see in the admin. Never log the recipient's address.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.tasks.base import TaskResult, TaskResultStatus
from django.template import engines
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.json import normalize_json

from accounts.models import Role, User
from accounts.unsubscribe import reminder_headers, unsubscribe_url
from config.observability import scrub

logger = logging.getLogger(__name__)


# Why the person receives our email: the footer of every message, by role.
FOOTERS: dict[str, str] = {
    Role.PARTICIPANT: "You receive this email because you take part in a coaching program run "
    "with Coachdesk.",
    Role.COACH: "You receive this email because you coach in a program run with Coachdesk.",
    Role.SPONSOR: "You receive this email because you follow your organization's coaching "
    "programs on Coachdesk.",
    Role.STAFF: "You receive this email because you are on the Coachdesk ops team.",
}

# Text parts: paragraphs wrapped at this width, at spaces only (never inside a link).
TEXT_WIDTH = 72


def build_email(
    *, template: str, recipient: User, context: dict[str, Any], reminder: bool = False
) -> EmailMultiAlternatives:
    """Render one message to `recipient` (subject, text and HTML) from its three templates.

    A `reminder` (the daily run's) carries the person's link to turn reminders off,
    in its footer and as one-click List-Unsubscribe headers, and says it was sent
    automatically (Auto-Submitted).
    """
    turn_off = unsubscribe_url(recipient) if reminder else ""
    context = {
        "site_url": settings.SITE_URL,
        "recipient": recipient,
        "footer": FOOTERS[recipient.role],
        "unsubscribe_url": turn_off,
        **context,
    }
    subject = " ".join(render_text(f"emails/{template}_subject.txt", context).split())
    text = wrap_text(render_text(f"emails/{template}.txt", context))
    html = render_to_string(f"emails/{template}.html", {**context, "subject": subject})
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[recipient.email],
        headers={
            "Message-ID": make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN),
            **(reminder_headers(turn_off) if reminder else {}),
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """Render a plain-text template (a subject or a text part): nothing is HTML-escaped."""
    return engines["text"].get_template(template_name).render(context)


def wrap_text(text: str) -> str:
    """The one layout of every text part: paragraphs wrapped at TEXT_WIDTH, one blank
    line between them.

    Templates write a paragraph (or a "- " list item) on one line. An indented line
    (a code, a link to copy) is kept as it is, and so is a word longer than a line:
    a link is never broken.
    """
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line:
            if lines and lines[-1]:
                lines.append("")
        elif line == "--":
            lines.append("-- ")  # the signature separator keeps its space (RFC 3676)
        elif line[0].isspace():
            lines.append(line)
        else:
            lines += _wrap_paragraph(line, indent="  " if line.startswith("- ") else "")
    return "\n".join(lines).strip("\n") + "\n"


def _wrap_paragraph(line: str, *, indent: str) -> list[str]:
    """Break one paragraph at spaces into lines of at most TEXT_WIDTH, or one word.

    textwrap does the same with more options and is several times slower; a nudge
    run wraps tens of thousands of digests.
    """
    if len(line) <= TEXT_WIDTH:
        return [line]
    wrapped: list[str] = []
    current = ""
    for word in line.split():
        if not current:
            current = word if not wrapped else indent + word
        elif len(current) + 1 + len(word) <= TEXT_WIDTH:
            current += " " + word
        else:
            wrapped.append(current)
            current = indent + word
    wrapped.append(current)
    return wrapped


def send_email(*, template: str, recipient: User, context: dict[str, Any]) -> None:
    """Render now; deliver through the worker once the surrounding transaction commits."""
    email_enqueue(
        build_email(template=template, recipient=recipient, context=context), template=template
    )


def email_enqueue(message: EmailMultiAlternatives, *, template: str) -> None:
    """Queue a rendered message for the worker, in the caller's transaction.

    For callers that build their messages themselves (the nudge reminders);
    `template` names the kind of message in the admin and the logs.
    """
    email_deliver.enqueue(message=_message_to_json(message), template=template)


def email_enqueue_many(messages: list[tuple[EmailMultiAlternatives, str]]) -> None:
    """Queue many rendered (message, template) pairs in one INSERT, in the caller's transaction.

    django.tasks enqueues one task per call (one INSERT each); a daily run that
    reminds thousands of people writes them in one statement instead. The rows
    are exactly what `email_deliver.enqueue` writes.
    """
    if not messages:
        return
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = email_deliver.get_backend()
    backend.validate_task(email_deliver)
    rows: list[DBTaskResult] = [
        DBTaskResult(
            args_kwargs=normalize_json(
                {"args": [], "kwargs": {"message": _message_to_json(m), "template": t}}
            ),
            priority=email_deliver.priority,
            task_path=email_deliver.module_path,
            queue_name=email_deliver.queue_name,
            run_after=get_date_max(),  # "as soon as possible", as the backend writes it
            backend_name=backend.alias,
        )
        for m, t in messages
    ]
    DBTaskResult.objects.bulk_create(rows)


class EmailNotSent(Exception):
    """A send failed; the message says why without the addresses the mail
    server's error may hold (it reaches the logs and the admin)."""


@task()
def email_deliver(*, message: dict[str, Any], template: str) -> None:
    """Task: send one rendered message (raises on failure, so the worker retries it)."""
    email_send_now(_message_from_json(message))
    logger.info("email sent: template=%s recipients=%d", template, len(message["to"]))


def email_send_now(message: EmailMultiAlternatives) -> None:
    """Send through the mail backend now (in the worker), raising EmailNotSent on failure."""
    try:
        message.send()
    except Exception as exc:  # noqa: BLE001 - any backend error is a failed attempt
        raise EmailNotSent(f"{type(exc).__name__}: {scrub(str(exc))}") from None


def _message_to_json(message: EmailMultiAlternatives) -> dict[str, Any]:
    # Task arguments must be JSON: the parts of the message, never the object.
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "headers": dict(message.extra_headers),
        "alternatives": [[str(content), mimetype] for content, mimetype in message.alternatives],
    }


def _message_from_json(data: dict[str, Any]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        # Tasks queued before headers were kept have none.
        headers=data.get("headers", {}),
    )
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    return message


def email_retry_delay(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: the base delay, doubling each time."""
    return timedelta(seconds=settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (attempts - 1))


def email_retry_failed(sender: object, task_result: TaskResult, **kwargs: Any) -> None:
    """task_finished receiver: put a failed email task back in the queue, with backoff.

    django.tasks has no retries of its own. The same row goes back to READY with
    `run_after` in the future, so staff see one row per message: pending (with the
    last error and the attempts so far), delivered, or failed for good after
    EMAIL_MAX_ATTEMPTS.
    """
    if task_result.status != TaskResultStatus.FAILED or not _is_email_task(task_result):
        return
    attempts = task_result.attempts
    error = task_result.errors[-1].exception_class_path if task_result.errors else "?"
    if attempts >= settings.EMAIL_MAX_ATTEMPTS:
        logger.error("email gave up: task=%s attempts=%d error=%s", task_result.id, attempts, error)
        return
    from django_tasks_db.models import DBTaskResult

    retry_at = timezone.now() + email_retry_delay(attempts)
    requeued = DBTaskResult.objects.filter(
        id=task_result.id, status=TaskResultStatus.FAILED
    ).update(status=TaskResultStatus.READY, run_after=retry_at, finished_at=None)
    if requeued:
        logger.warning(
            "email failed, retrying: task=%s attempt=%d error=%s retry_in=%ds",
            task_result.id,
            attempts,
            error,
            email_retry_delay(attempts).total_seconds(),
        )


EMAIL_TASK_PATHS = {
    "accounts.emails.email_deliver",
    "accounts.services.login_code_send",
}


def _is_email_task(task_result: TaskResult) -> bool:
    # Only rows in the database queue can be put back; the immediate backend has none.
    from django_tasks_db.backend import DatabaseBackend

    backend = task_result.task.get_backend()
    return isinstance(backend, DatabaseBackend) and task_result.task.module_path in EMAIL_TASK_PATHS

"""Operations pages (admins): the job queue with retry and cancel, and the audit log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from redis.exceptions import RedisError

from webapp.core.forms import valid_values
from webapp.core.pagination import paginate
from webapp.core.security import admin_required
from webapp.operations import audit, queue
from webapp.operations.forms import AuditFilterForm

bp = Blueprint("operations", __name__, url_prefix="/operations")


@bp.route("/queue")
@admin_required
def queue_page():
    """Show queued, running, failed and recent jobs, and the workers online."""
    try:
        state = queue.snapshot()
    except queue.QueueUnavailable as error:
        return render_template("operations/queue.html", state=None, error=str(error))
    return render_template("operations/queue.html", state=state, error=None)


def act(job_id: str, action) -> str:
    """Run a queue action and flash its outcome; return the redirect."""
    try:
        flash(action(job_id, current_user), "success")
    except queue.QueueActionError as error:
        flash(str(error), "error")
    except (RedisError, OSError) as error:
        flash(f"The job queue (Redis) does not answer: {error}", "error")
    return redirect(url_for("operations.queue_page"))


@bp.post("/queue/<job_id>/retry")
@admin_required
def retry(job_id: str):
    """Retry a failed job (a training job starts its run again)."""
    return act(job_id, queue.retry)


@bp.post("/queue/<job_id>/cancel")
@admin_required
def cancel(job_id: str):
    """Cancel a queued job, stop a running one or delete a failed one."""
    return act(job_id, queue.cancel)


@bp.route("/audit")
@admin_required
def audit_log():
    """List admin actions, newest first, filtered by action, actor and day."""
    form = AuditFilterForm(request.args)
    values = valid_values(form)
    filters = audit.Filters(
        action=values.get("action"),
        actor=values.get("actor"),
        since=values.get("since"),
        until=values.get("until"),
    )
    page = paginate(filters.query())
    filtered = any(v for k, v in values.items() if k != "page")
    return render_template(
        "operations/audit.html", form=form, page=page, filtered=filtered
    )

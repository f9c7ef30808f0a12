"""Sign in and sign out."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from webapp.core.security import safe_next
from webapp.extensions import db, limiter
from webapp.models import User
from webapp.views.forms import LoginForm, SettingsForm

bp = Blueprint("auth", __name__, url_prefix="/auth")


def login_limit() -> str:
    """Return the configured login rate limit."""
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    """Show the login form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("Wrong email or password.")
        else:
            login_user(user, remember=form.remember.data)
            flash(f"Welcome back, {user.email}.", "success")
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign the current user out."""
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """Let the signed-in user opt out of training and change their password."""
    form = SettingsForm(obj=current_user)
    if form.validate_on_submit():
        if form.new_password.data:
            if not current_user.check_password(form.current_password.data):
                form.current_password.errors.append(
                    "That is not your current password."
                )
                return render_template("auth/settings.html", form=form), 422
            current_user.set_password(form.new_password.data)
        current_user.training_opt_out = form.training_opt_out.data
        db.session.commit()
        flash("Your settings are saved.", "success")
        return redirect(url_for("auth.settings"))
    status = 422 if form.errors else 200
    return render_template("auth/settings.html", form=form), status

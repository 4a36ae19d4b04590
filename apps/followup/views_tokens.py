"""Pages for forces' API keys: the list, creating a key (shown once) and revoking one.

Programme managers and administrators manage the keys of every force, force liaisons those
of their own force; everyone else gets 403, and a key the person may not manage is 404 (they
are not told it exists). Writes go through tokens.py, which audits them.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from apps.accounts.models import User
from apps.core.forms import add_service_errors
from apps.reference.models import Force

from . import tokens
from .models import ApiToken


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="What will use the key",
        max_length=100,
        help_text="For example “Force performance tracker”, so you know which key to revoke "
        "when it is no longer used.",
        error_messages={"required": "Enter a name that says what will use the key."},
    )
    force = forms.TypedChoiceField(
        label="Force", coerce=int, error_messages={"required": "Choose the force."}
    )

    def __init__(self, *args: Any, forces: list[Force], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "key_%s")  # the page's filter has a "force" field too
        super().__init__(*args, **kwargs)
        if len(forces) == 1:  # a force liaison: always their own force
            del self.fields["force"]
        else:
            field = cast(forms.TypedChoiceField, self.fields["force"])
            field.choices = [("", "Choose the force"), *((f.pk, f.name) for f in forces)]


class ForceFilterForm(forms.Form):
    force = forms.ChoiceField(label="Force", required=False)

    def __init__(self, *args: Any, forces: list[Force], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["force"])
        field.choices = [("", "All forces"), *((f.slug, f.name) for f in forces)]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _forces(request: HttpRequest) -> list[Force]:
    """The forces whose keys the person manages; 403 for anyone who manages none."""
    forces = list(tokens.token_forces(request.user))
    if not forces:
        raise PermissionDenied
    return forces


def _list_page(
    request: HttpRequest, forces: list[Force], form: ApiKeyForm, status: int = 200
) -> HttpResponse:
    keys: QuerySet[ApiToken] = tokens.tokens_visible_to(request.user)
    filter_form = None
    if len(forces) > 1:
        filter_form = ForceFilterForm(request.GET or None, forces=forces)
        if filter_form.is_valid() and filter_form.cleaned_data["force"]:
            keys = keys.filter(force__slug=filter_form.cleaned_data["force"])
    page = Paginator(keys, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "followup/api_keys.html",
        {
            "page": page,
            "form": form,
            "filter_form": filter_form,
            "forces": forces,
            "one_force": forces[0] if len(forces) == 1 else None,
            "query": query.urlencode(),
            "api_base": request.build_absolute_uri(reverse("followup_api:api-root")),
        },
        status=status,
    )


@login_required
@require_safe
def api_keys(request: HttpRequest) -> HttpResponse:
    forces = _forces(request)
    return _list_page(request, forces, ApiKeyForm(forces=forces))


@login_required
def api_key_create(request: HttpRequest) -> HttpResponse:
    forces = _forces(request)
    if request.method != "POST":
        return redirect("followup_keys:list")
    form = ApiKeyForm(request.POST, forces=forces)
    if form.is_valid():
        force_id = form.cleaned_data.get("force") or forces[0].pk
        force = next((f for f in forces if f.pk == force_id), None)
        if force is None:
            form.add_error("force", "Choose the force.")
        else:
            try:
                token, key = tokens.token_create(
                    actor=_user(request), force=force, name=form.cleaned_data["name"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                # The key is in this response only: never cached, never stored in the session.
                response = render(
                    request,
                    "followup/api_key_created.html",
                    {
                        "token": token,
                        "key": key,
                        "api_base": request.build_absolute_uri(reverse("followup_api:api-root")),
                    },
                )
                add_never_cache_headers(response)  # includes no-store
                return response
    return _list_page(request, forces, form)


class RevokeForm(forms.Form):
    """Nothing to fill in: the button is the confirmation."""


@login_required
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _forces(request)
    token = tokens.tokens_visible_to(request.user).filter(pk=pk).first()
    if token is None:
        raise Http404("No such API key")
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            tokens.token_revoke(actor=_user(request), token=token)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Revoked the key “{token.name}” ({token.prefix}…) of {token.force.name}. "
                "Calls with it are refused from now on.",
            )
            return redirect(reverse("followup_keys:list"))
    return render(request, "followup/api_key_revoke.html", {"token": token, "form": form})

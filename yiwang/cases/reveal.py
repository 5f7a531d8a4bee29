"""The reporter reveal on the case page (htmx): the full name and phone for a stated reason, audited.

Same flow as the registry's resident reveal: a form asking why, answered in place by the values
(or the form again with the error). The rules are in personal.py.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import personal, selectors


class RevealForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why do you need the reporter's full name and phone?"),
                             max_length=300)


def reveal_context(actor, case) -> dict:
    """What the case page needs to offer the reveal (nothing when the actor may not)."""
    return {"may_reveal": personal.may_reveal_reporter(actor, case), "reveal_form": RevealForm()}


@login_required
@require_POST
def reporter_reveal(request, pk: int):
    case = selectors.case_get_visible(request.user, pk)
    form = RevealForm(request.POST)
    shown, error = None, None
    if form.is_valid():
        try:
            shown = personal.reporter_reveal(actor=request.user, case=case, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = _("Say why you need the reporter's full name and phone.")
    return render(request, "cases/_reporter_reveal.html", {"case": case, "shown": shown, "error": error,
                                                           "reveal_form": form}, status=200 if shown else 400)

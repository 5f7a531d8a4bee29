from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import MAX_VISIT_INTERVAL_DAYS


class VisitIntervalForm(forms.Form):
    """A household's own visit interval (community staff)."""

    interval_days = forms.IntegerField(
        label=_("Visit every (days)"), min_value=1, max_value=MAX_VISIT_INTERVAL_DAYS,
        error_messages={"required": _("Say every how many days the household is to be visited."),
                        "invalid": _("Enter a whole number of days.")})
    note = forms.CharField(label=_("Why (optional)"), max_length=200, required=False,
                           help_text=_("e.g. lives alone since March; daughter visits weekly"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The service's message, in the request's language.
        out_of_range = gettext("Choose an interval between 1 and %(max)d days.") % {"max": MAX_VISIT_INTERVAL_DAYS}
        self.fields["interval_days"].error_messages.update(min_value=out_of_range, max_value=out_of_range)

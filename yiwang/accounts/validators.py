from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class MixedCharacterValidator:
    """Passwords must mix letters and digits: grid workers' phones are easy to shoulder-surf."""

    def validate(self, password, user=None):
        if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
            raise ValidationError(_("The password must contain both letters and digits."), code="password_mixed")

    def get_help_text(self):
        return _("Your password must contain both letters and digits.")

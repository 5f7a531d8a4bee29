"""Translations for the messages of yiwang.core.pii, which has no locale of its own: listing the
msgids here puts them in this app's catalogue (gettext catalogues are merged project-wide).
Keep in step with core/pii.py."""

from django.utils.translation import gettext_noop

CORE_PII_MESSAGES = [
    gettext_noop("An ID number has 18 characters: 17 digits and a final digit or X."),
    gettext_noop("The ID number's region code %(region)s is not a Chinese region."),
    gettext_noop("The ID number's birth date %(date)s does not exist."),
    gettext_noop("The ID number's birth date %(date)s is not plausible."),
    gettext_noop("The ID number's check digit is wrong; please check for a typing error."),
    gettext_noop("%(value)s is not a phone number (11-digit mobile or landline)."),
]

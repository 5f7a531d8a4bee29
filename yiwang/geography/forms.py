from django import forms
from django.utils.translation import gettext_lazy as _

MAX_IMPORT_BYTES = 20 * 1024 * 1024


class TreeImportForm(forms.Form):
    file = forms.FileField(label=_("GeoJSON file"), help_text=_("A FeatureCollection with properties code, name, "
                                                               "level and parent_code; WGS-84 coordinates."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload

from django.apps import AppConfig


class FieldworkConfig(AppConfig):
    name = "yiwang.fieldwork"
    label = "fieldwork"
    verbose_name = "Fieldwork"

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovstackConfig(AppConfig):
    name = "tinhso.govstack"
    label = "govstack"
    verbose_name = _("GovStack building blocks")

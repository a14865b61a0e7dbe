from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CpeConfig(AppConfig):
    name = "beskontakt.cpe"
    label = "cpe"
    verbose_name = _("Subscriber devices (TR-069)")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "tinhso.catalog"
    label = "catalog"
    verbose_name = _("Administrative procedures")

    def ready(self) -> None:
        from tinhso.core.audit_display import EXTRA_FIELD_LABELS

        # Catalog imports record the lists that changed under these names (services.py).
        EXTRA_FIELD_LABELS.setdefault("fees", _("fees"))
        EXTRA_FIELD_LABELS.setdefault("required_documents", _("required documents"))
        EXTRA_FIELD_LABELS.setdefault("workflow", _("workflow"))
        EXTRA_FIELD_LABELS.setdefault("parts", _("parts"))

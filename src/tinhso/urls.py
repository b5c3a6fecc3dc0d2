from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from tinhso.api import api
from tinhso.portal import views as portal_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("", include("tinhso.health.urls")),
    path("catalog/", include("tinhso.catalog.urls")),
    path("dossiers/", include("tinhso.dossiers.urls")),
    path("integration/", include("tinhso.integration.urls")),
    path("eid/", include("tinhso.eid.urls")),
    path("portal/payments/", include("tinhso.payments.portal_urls")),
    path("portal/", include("tinhso.portal.urls")),
    path("payments/", include("tinhso.payments.urls")),
    path("ioc/alerts/", include("tinhso.ioc.alert_urls")),
    path("ioc/", include("tinhso.ioc.urls")),
    # The slips' QR codes point at <base>/track/<code>.
    path("track/<str:code>", portal_views.track_redirect, name="track_redirect"),
    path("", include("tinhso.core.urls")),
]

if settings.TINHSO_SIMULATORS:
    urlpatterns.insert(0, path("sim/", include("tinhso.integration.simulators.urls")))

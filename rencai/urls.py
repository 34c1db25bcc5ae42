from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog

from rencai.api.api import api

admin.site.site_header = _("人才平台 · 系统管理")
admin.site.site_title = _("人才平台管理")
admin.site.index_title = _("系统管理")

urlpatterns = [
    path("", include("rencai.portal.urls")),
    path("", include("rencai.cms.urls")),
    path("accounts/", include("rencai.accounts.urls")),
    path("me/profile/", include("rencai.profiles.urls")),
    path("applications/", include("rencai.applications.urls")),
    path("talent/", include("rencai.talent.urls")),
    path("agency/", include("rencai.agency.urls")),
    path("housing/", include("rencai.housing.urls")),
    path("staff/housing/", include("rencai.housing.staff_urls")),
    path("staff/", include("rencai.review.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("captcha/", include("captcha.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]

handler400 = "rencai.portal.errors.bad_request"
handler403 = "rencai.portal.errors.permission_denied"
handler404 = "rencai.portal.errors.page_not_found"
handler500 = "rencai.portal.errors.server_error"

if settings.RENCAI_BENCH_ENDPOINTS:
    from rencai.benchmark import baseline

    urlpatterns.append(path("bench/baseline/", baseline))

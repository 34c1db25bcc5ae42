from django.urls import path

from rencai.applications import views

app_name = "applications"
urlpatterns = [
    path("", views.programs, name="programs"),
    path("programs/<slug:code>/notice/", views.notice, name="notice"),
    path("programs/<slug:code>/new/", views.new, name="new"),
    path("programs/<slug:code>/template/<slug:material_type>/", views.template, name="template"),
    path("mine/", views.mine, name="mine"),
    path("records/", views.records, name="records"),
    path("roster/", views.roster, name="roster"),
    path("gaps/", views.gaps, name="gaps"),
    path("messages/", views.inbox, name="inbox"),
    path("messages/read/", views.inbox_read, name="inbox_read"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/check/", views.check, name="check"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/reapply/", views.reapply, name="reapply"),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
]

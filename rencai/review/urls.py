from django.urls import path

from rencai.review import views

app_name = "review"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("employers/", views.employer_list, name="employers"),
    path("employers/<int:pk>/", views.employer_review, name="employer"),
    path("changes/", views.change_list, name="changes"),
    path("changes/<int:pk>/", views.change_review, name="change"),
    path("people/", views.person_list, name="people"),
    path("people/<int:pk>/", views.person_review, name="person"),
    path("applications/", views.application_queue, name="applications"),
    path("applications/<int:pk>/", views.application_review, name="application"),
    path("applications/<int:pk>/gaps/<int:gap_pk>/", views.application_gap, name="application_gap"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("notices/", views.notices, name="notices"),
    path("notices/<int:pk>/", views.notice, name="notice"),
    path("statistics/", views.statistics, name="statistics"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("payouts/", views.payouts, name="payouts"),
    path("payouts/<int:pk>/", views.payout, name="payout"),
]

from django.urls import path

from rencai.agency import views

app_name = "agency"
urlpatterns = [
    path("gradings/", views.gradings, name="gradings"),
    path("gradings/new/", views.grading_create, name="grading_create"),
    path("gradings/<int:pk>/", views.grading, name="grading"),
    path("gradings/<int:pk>/indicators/<slug:code>/", views.indicator, name="indicator"),
    path("gradings/<int:pk>/report/", views.report, name="report"),
    path("gradings/<int:pk>/delete/", views.delete, name="delete"),
    path("results/", views.results, name="results"),
    path("results/<int:pk>/upgrade/", views.upgrade, name="upgrade"),
    path("rules/", views.rules_documents, name="rules"),
    path("subsidies/", views.subsidies, name="subsidies"),
    path("review/<int:pk>/score/", views.score_adjust, name="score_adjust"),
]

from django.urls import path

from rencai.cms import views

app_name = "cms"
urlpatterns = [
    # /policies/match/ belongs to the portal; <int:pk> never matches "match".
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("announcements/", views.announcement_list, name="announcement_list"),
    path("announcements/<int:pk>/", views.announcement_detail, name="announcement_detail"),
    path("recruitment/", views.recruitment_list, name="recruitment_list"),
    path("recruitment/<int:pk>/", views.recruitment_detail, name="recruitment_detail"),
    path("downloads/", views.download_list, name="download_list"),
    path("downloads/<int:pk>/file/", views.download_file, name="download_file"),
]

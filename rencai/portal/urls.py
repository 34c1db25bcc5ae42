from django.urls import path

from rencai.portal import reveal, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("policies/match/", views.policy_match, name="match"),
    path("notices/", views.notices, name="notices"),
    path("notices/<int:pk>/", views.notice, name="notice"),
    path("personal-data/reveal/", reveal.reveal, name="reveal"),
]

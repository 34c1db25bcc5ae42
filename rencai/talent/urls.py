from django.urls import path

from rencai.talent import views

app_name = "talent"
urlpatterns = [path("", views.centre, name="centre")]

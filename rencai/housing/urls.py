from django.urls import path

from rencai.housing import views

app_name = "housing"
urlpatterns = [
    path("stations/", views.station_list, name="stations"),
    path("stations/<int:pk>/", views.station_detail, name="station"),
    path("apartments/", views.community_list, name="apartments"),
    path("apartments/<int:pk>/", views.community_detail, name="apartment"),
    path("pictures/<int:pk>/", views.picture, name="picture"),
]

"""The talent office's housing desks, under /staff/housing/."""

from django.urls import path

from rencai.housing import views

app_name = "housing_staff"
urlpatterns = [
    path("allocations/", views.allocations, name="allocations"),
    path("allocations/applications/<int:pk>/", views.allocate, name="allocate"),
    path("allocations/<int:pk>/end/", views.allocation_end, name="allocation_end"),
    path("bookings/", views.bookings, name="bookings"),
    path("bookings/<int:pk>/", views.booking_action, name="booking_action"),
]

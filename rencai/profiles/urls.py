from django.urls import path

from rencai.profiles import views

app_name = "profiles"
urlpatterns = [
    path("", views.basic, name="basic"),
    path("education/", views.education_list, name="education"),
    path("education/add/", views.education_add, name="education_add"),
    path("education/<int:pk>/edit/", views.education_edit, name="education_edit"),
    path("education/<int:pk>/delete/", views.education_delete, name="education_delete"),
    path("qualifications/", views.qualification_list, name="qualifications"),
    path("qualifications/add/", views.qualification_add, name="qualification_add"),
    path("qualifications/<int:pk>/edit/", views.qualification_edit, name="qualification_edit"),
    path(
        "qualifications/<int:pk>/delete/",
        views.qualification_delete,
        name="qualification_delete",
    ),
    path("work/", views.work_list, name="work"),
    path("work/add/", views.work_add, name="work_add"),
    path("work/<int:pk>/edit/", views.work_edit, name="work_edit"),
    path("work/<int:pk>/delete/", views.work_delete, name="work_delete"),
    path("materials/", views.materials, name="materials"),
    path("materials/<int:pk>/", views.material_detail, name="material"),
    path("materials/<int:pk>/replace/", views.material_replace, name="material_replace"),
    path("materials/<int:pk>/delete/", views.material_delete, name="material_delete"),
    path("materials/<int:pk>/file/", views.material_file, name="material_file"),
    path("materials/<int:pk>/download/", views.material_download, name="material_download"),
]

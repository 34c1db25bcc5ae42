from django.urls import path

from rencai.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_password, name="login"),
    path("login/sms/", views.login_sms, name="login_sms"),
    path("login/totp/", views.totp, name="totp"),
    path("logout/", views.logout, name="logout"),
    path("sms/send/", views.sms_send, name="sms_send"),
    path("register/", views.register_choose, name="register"),
    path("register/person/", views.register_person, name="register_person"),
    path("register/employer/", views.register_employer, name="register_employer"),
    path("register/agency/", views.register_agency, name="register_agency"),
    path("me/", views.centre, name="centre"),
    path("me/registration/", views.registration, name="registration"),
    path("me/account/", views.account_info, name="info"),
    path("me/password/", views.password_change, name="password"),
    path("me/phone/", views.phone_change, name="phone"),
    path("me/close/", views.account_close, name="close"),
    path("registration-change/", views.registration_change, name="registration_change"),
]

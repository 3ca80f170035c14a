"""Single sign-on's URLs: mozilla-django-oidc's (sign-in, callback, sign-out, with the
product's views from settings_sso) and the product's own."""

from django.urls import include, path

from accounts.sso import views

urlpatterns = [
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("oidc/step-up/callback/", views.stepup_callback, name="sso-stepup-callback"),
    path("accounts/sso/no-role/", views.sso_no_role, name="sso-no-role"),
]

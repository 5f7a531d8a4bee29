from django.urls import path

from . import views

app_name = "fieldwork"
urlpatterns = [
    path("", views.app, name="app"),
    path("data/", views.data, name="data"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("jsi18n/", views.catalog, name="jsi18n"),
    path("coverage/", views.coverage, name="coverage"),
    path("households/<int:pk>/interval/", views.interval, name="interval"),
]

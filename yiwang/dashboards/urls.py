from django.urls import path

from . import views

app_name = "dashboards"
urlpatterns = [
    path("", views.home, name="home"),
    path("area/<str:path>/", views.area, name="area"),
    path("bigscreen/", views.bigscreen_home, name="bigscreen_home"),
    path("bigscreen/<str:path>/", views.bigscreen, name="bigscreen"),
    path("area/<str:path>/export/<str:which>.xlsx", views.export, name="export"),
    path("area/<str:path>/report/", views.report_request, name="report_request"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("reports/<int:pk>/download/", views.report_download, name="report_download"),
]

from django.urls import path

from . import reveal, views

app_name = "cases"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk_act, name="bulk_act"),
    path("new/", views.case_new, name="new"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("buildings/", views.buildings_near, name="buildings_near"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/act/<slug:action>/", views.case_act, name="act"),
    path("<int:pk>/verify/", views.case_verify, name="verify"),
    path("<int:pk>/reporter/reveal/", reveal.reporter_reveal, name="reporter_reveal"),
    path("photos/<int:pk>/", views.attachment, name="attachment"),
    path("indicators/", views.indicators, name="indicators"),
    path("report/", views.public_new, name="public_new"),
    path("report/code/", views.public_send_code, name="public_send_code"),
    path("track/", views.track, name="track"),
    path("track/<str:code>/", views.track_detail, name="track_detail"),
    path("track/<str:code>/rate/", views.track_rate, name="track_rate"),
    path("track/<str:code>/photos/<int:pk>/", views.public_photo, name="public_photo"),
]

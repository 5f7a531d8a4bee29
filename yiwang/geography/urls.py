from django.urls import path

from . import views

app_name = "geography"
urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("map/data/", views.map_data, name="map_data"),
    path("areas/<int:pk>/", views.area_detail, name="area_detail"),
    path("export/", views.tree_export, name="tree_export"),
    path("import/", views.tree_import, name="tree_import"),
]

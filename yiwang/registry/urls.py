from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.resident_list, name="resident_list"),
    path("residents/new/", views.resident_create, name="resident_create"),
    path("residents/<int:pk>/", views.resident_detail, name="resident_detail"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/reveal/", views.resident_reveal, name="resident_reveal"),
    path("residents/<int:pk>/action/", views.resident_action, name="resident_action"),
    path("residents/export/", views.resident_export, name="resident_export"),
    path("history/<str:target_type>/<int:pk>/", views.record_history, name="history"),
    path("households/", views.household_list, name="household_list"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("components/", views.component_list, name="component_list"),
    path("components/<int:pk>/", views.component_detail, name="component_detail"),
    path("situation/", views.situation_list, name="situation_list"),
    path("changes/", views.change_request_list, name="change_request_list"),
    path("changes/<int:pk>/", views.change_request_detail, name="change_request_detail"),
    path("search/", views.search, name="search"),
    path("needs/<int:pk>/", views.needs, name="needs"),
    path("map/", views.map_page, name="map"),
    path("map/buildings.geojson", views.map_buildings, name="map_buildings"),
    path("map/components.geojson", views.map_components, name="map_components"),
    path("import/", views.import_start, name="import_start"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("import/<int:pk>/errors.xlsx", views.import_errors, name="import_errors"),
]

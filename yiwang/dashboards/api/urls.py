from django.urls import path

from . import views

urlpatterns = [
    path("dashboards/indicators/", views.IndicatorsView.as_view(), name="dashboard-indicators"),
    path("dashboards/trend/", views.TrendView.as_view(), name="dashboard-trend"),
    path("dashboards/categories/", views.CategoriesView.as_view(), name="dashboard-categories"),
    path("dashboards/rankings/", views.RankingsView.as_view(), name="dashboard-rankings"),
    path("dashboards/cases/", views.CaseListView.as_view(), name="dashboard-cases"),
    path("dashboards/map/", views.MapView.as_view(), name="dashboard-map"),
    path("dashboards/population/", views.PopulationView.as_view(), name="dashboard-population"),
    path("dashboards/reports/", views.ReportListView.as_view(), name="dashboard-reports"),
    path("dashboards/reports/<int:pk>/", views.ReportDetailView.as_view(), name="dashboard-report"),
]

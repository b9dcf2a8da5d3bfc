"""Routes of the import wizard and the exports, mounted at /data/."""

from django.urls import path

from kehu.imports import views

app_name = "imports"
urlpatterns = [
    path("import/", views.start, name="start"),
    path("import/<int:job_id>/mapping/", views.mapping, name="mapping"),
    path("import/<int:job_id>/preview/", views.preview, name="preview"),
    path("import/<int:job_id>/", views.result, name="result"),
    path("import/<int:job_id>/progress/", views.progress, name="progress"),
    path("import/<int:job_id>/errors.csv", views.error_report, name="error_report"),
    path("export/customers/", views.export_customers, name="export_customers"),
    path("export/orders/", views.export_orders, name="export_orders"),
]

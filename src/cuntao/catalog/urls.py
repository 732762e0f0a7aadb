from django.urls import path

from cuntao.catalog import views

app_name = "catalog"
urlpatterns = [
    path("catalog/", views.catalog_index, name="index"),
    # The category is in the path, so the live search (which sends only ?q=) keeps it.
    path("catalog/c/<slug:slug>/", views.catalog_index, name="category"),
    path("catalog/products/<int:product_id>/", views.product_detail, name="detail"),
]

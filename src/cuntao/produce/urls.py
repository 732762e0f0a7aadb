from django.urls import path, register_converter

from cuntao.produce import trace_views, views


class GtinConverter:
    regex = "[0-9]{14}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class Gs1TextConverter:
    """GS1 AI 10 / AI 21 values: up to 20 URL-safe characters of CSET 82."""

    regex = r"[0-9A-Za-z\-._]{1,20}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(GtinConverter, "gtin")
register_converter(Gs1TextConverter, "gs1")

app_name = "produce"
urlpatterns = [
    # public: what a box's QR opens (short URI and GS1 Digital Link), with no trailing slash
    path("b/<str:code>", trace_views.trace_short, name="trace_short"),
    path("b/", trace_views.trace_lookup, name="trace_lookup"),
    path("b/<str:code>/qr.svg", trace_views.box_qr, name="box_qr"),
    path("01/<gtin:gtin>/10/<gs1:lot>/21/<gs1:serial>", trace_views.trace_digital_link, name="trace_digital_link"),
    # partners, inspectors, county staff
    path("produce/", views.produce_home, name="home"),
    path("produce/plots/<int:plot_id>/", views.plot_detail, name="plot_detail"),
    path("produce/inspect/", views.inspect_index, name="inspect_index"),
    path("produce/inspect/plots/<int:plot_id>/", views.inspect_plot, name="inspect_plot"),
    path("produce/violations/<int:violation_id>/clear/", views.violation_clear_view, name="violation_clear"),
    path("produce/c/<slug:slug>/", views.cooperative_detail, name="cooperative_detail"),
    path("produce/c/<slug:slug>/enrol/", views.enrol, name="enrol"),
    path("produce/c/<slug:slug>/grade/", views.grading_new, name="grading_new"),
    path("produce/lots/<str:code>/", views.graded_lot_detail, name="graded_lot_detail"),
    path("produce/packings/<str:code>/labels.pdf", views.packing_labels, name="packing_labels"),
    path("produce/county/<int:county_id>/suspect-boxes/", views.county_suspect_boxes, name="suspect_boxes"),
]

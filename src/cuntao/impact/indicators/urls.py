app_name = "impact_indicators"
urlpatterns: list = []

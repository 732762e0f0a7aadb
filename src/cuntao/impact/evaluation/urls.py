app_name = "impact_evaluation"
urlpatterns: list = []

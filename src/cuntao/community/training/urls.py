app_name = "community_training"
urlpatterns: list = []

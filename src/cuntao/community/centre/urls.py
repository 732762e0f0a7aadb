app_name = "community_centre"
urlpatterns: list = []

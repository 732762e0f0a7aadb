from django.urls import path

from cuntao.ledger import views

app_name = "ledger"
urlpatterns = [
    path("ledger/stations/<str:code>/", views.station_money, name="station_money"),
    path("ledger/stations/<str:code>/cash/", views.cash_sheet_page, name="cash_sheet"),
    path("ledger/stations/<str:code>/cash.pdf", views.cash_sheet_download, name="cash_sheet_pdf"),
    path("ledger/stations/<str:code>/statement/", views.statement_page, name="statement"),
    path("ledger/stations/<str:code>/payout/", views.payout_new, name="payout_new"),
    path("ledger/settlements/<int:settlement_id>/", views.settlement_detail, name="settlement_detail"),
    path("ledger/settlements/<int:settlement_id>/withdraw/", views.settlement_withdraw, name="settlement_withdraw"),
    path("ledger/county/<int:county_id>/", views.county_money, name="county_money"),
]

"""Web pages of the stock ledger, under /stock/."""

from django.urls import path

from reliefops.stock import views

app_name = "stock"

urlpatterns = [
    path("", views.onhand_list, name="onhand-list"),
    path("card/", views.onhand_card, name="onhand-card"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("pledges/<int:pledge_id>/cancel/", views.pledge_cancel_new, name="pledge-cancel"),
    path("waybills/", views.waybill_list, name="waybill-list"),
    path("waybills/new/", views.waybill_dispatch_new, name="waybill-dispatch"),
    path("waybills/<int:waybill_id>/", views.waybill_detail, name="waybill-detail"),
    path("waybills/<int:waybill_id>/print/", views.waybill_print, name="waybill-print"),
    path("waybills/<int:waybill_id>/confirm/", views.waybill_confirm, name="waybill-confirm"),
    path("movements/", views.movement_list, name="movement-list"),
    path("movements/<int:movement_id>/", views.movement_detail, name="movement-detail"),
    path("movements/<int:movement_id>/grn/", views.movement_grn, name="movement-grn"),
    path("movements/<int:movement_id>/reverse/", views.movement_reverse_new, name="movement-reverse"),
    path("donors/", views.donor_list, name="donor-list"),
    path("donors/<int:grant_id>/", views.donor_report, name="donor-report"),
    path("post/", views.post_menu, name="post-menu"),
    path("post/receipt/", views.receipt_new, name="post-receipt"),
    path("post/distribution/", views.distribution_new, name="post-distribution"),
    path("post/handover/", views.handover_new, name="post-handover"),
    path("post/loss/", views.loss_new, name="post-loss"),
    path("post/count/", views.count_new, name="post-count"),
    path("post/kits/", views.kitting_new, name="post-kitting"),
]

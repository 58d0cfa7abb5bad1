from __future__ import annotations

from django.urls import path

from frontdesk.billing import views, views_drawer, views_reversal

app_name = "billing"

urlpatterns = [
    path("patients/<id:patient_id>/entries/new/", views.entry_add_view, name="entry_add"),
    path("patients/<id:patient_id>/payments/new/", views.payment_add_view, name="payment_add"),
    path("receipts/<id:entry_id>/", views.receipt_view, name="receipt"),
    path("drawer/", views_drawer.drawer_view, name="drawer"),
    path("drawer/open/", views_drawer.drawer_open_view, name="drawer_open"),
    path("drawer/<id:drawer_id>/close/", views_drawer.drawer_close_view, name="drawer_close"),
    path("drawers/", views_drawer.drawers_view, name="drawers"),
    path("drawers/<id:drawer_id>/", views_drawer.drawer_detail_view, name="drawer_detail"),
    path("drawers/<id:drawer_id>/review/", views_drawer.drawer_review_view, name="drawer_review"),
    path("deposits/", views_drawer.deposit_view, name="deposit"),
    path("payments/<id:entry_id>/void/", views_reversal.payment_void_view, name="payment_void"),
    path(
        "payments/<id:entry_id>/refund/", views_reversal.payment_refund_view, name="payment_refund"
    ),
    path("patients/<id:patient_id>/statement/", views_reversal.statement_view, name="statement"),
    path(
        "patients/<id:patient_id>/statement.pdf",
        views_reversal.statement_pdf_view,
        name="statement_pdf",
    ),
]

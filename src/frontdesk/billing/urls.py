from __future__ import annotations

from django.urls import path

from frontdesk.billing import views

app_name = "billing"

urlpatterns = [
    path("patients/<id:patient_id>/entries/new/", views.entry_add_view, name="entry_add"),
    path("patients/<id:patient_id>/payments/new/", views.payment_add_view, name="payment_add"),
    path("receipts/<id:entry_id>/", views.receipt_view, name="receipt"),
]

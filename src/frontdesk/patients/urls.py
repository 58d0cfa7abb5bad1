from __future__ import annotations

from django.urls import path

from frontdesk.patients import (
    views,
    views_coverage,
    views_details,
    views_merge,
    views_registration,
)

app_name = "patients"

urlpatterns = [
    path("", views.search_view, name="search"),
    path("register/", views_registration.register_view, name="register"),
    path("<int:patient_id>/", views.chart_view, name="chart"),
    path("<int:patient_id>/break-glass/", views.break_glass_view, name="break_glass"),
    path("<int:patient_id>/reveal/<str:field>/", views.reveal_view, name="reveal"),
    path("<int:patient_id>/coverages/new/", views_coverage.coverage_edit_view, name="coverage_add"),
    path(
        "<int:patient_id>/coverages/<int:coverage_id>/",
        views_coverage.coverage_edit_view,
        name="coverage_edit",
    ),
    path(
        "<int:patient_id>/coverages/<int:coverage_id>/card/<str:side>/",
        views_coverage.coverage_card_view,
        name="coverage_card",
    ),
    path("<int:patient_id>/addresses/new/", views_details.address_edit_view, name="address_add"),
    path(
        "<int:patient_id>/addresses/<int:address_id>/",
        views_details.address_edit_view,
        name="address_edit",
    ),
    path(
        "<int:patient_id>/addresses/<int:address_id>/remove/",
        views_details.address_remove_view,
        name="address_remove",
    ),
    path("<int:patient_id>/documents/new/", views_details.document_edit_view, name="document_add"),
    path(
        "<int:patient_id>/documents/<int:document_id>/",
        views_details.document_edit_view,
        name="document_edit",
    ),
    path(
        "<int:patient_id>/documents/<int:document_id>/remove/",
        views_details.document_remove_view,
        name="document_remove",
    ),
    path(
        "notices/<int:notice_id>/acknowledge/",
        views.notice_acknowledge_view,
        name="notice_acknowledge",
    ),
    path("<int:patient_id>/merge/", views_merge.merge_start_view, name="merge_start"),
    path(
        "merge/<int:survivor_id>/<int:merged_id>/",
        views_merge.merge_compare_view,
        name="merge_compare",
    ),
    path("merges/<int:merge_id>/undo/", views_merge.unmerge_view, name="unmerge"),
    path("payers/", views_coverage.payer_list_view, name="payers"),
    path("payers/new/", views_coverage.payer_edit_view, name="payer_add"),
    path("payers/<int:payer_id>/", views_coverage.payer_edit_view, name="payer_edit"),
]

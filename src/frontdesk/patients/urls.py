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
    path("duplicates/", views_merge.duplicates_view, name="duplicates"),
    path("<id:patient_id>/", views.chart_view, name="chart"),
    path("<id:patient_id>/break-glass/", views.break_glass_view, name="break_glass"),
    path("<id:patient_id>/reveal/<str:field>/", views.reveal_view, name="reveal"),
    path("<id:patient_id>/coverages/new/", views_coverage.coverage_edit_view, name="coverage_add"),
    path(
        "<id:patient_id>/coverages/<id:coverage_id>/",
        views_coverage.coverage_edit_view,
        name="coverage_edit",
    ),
    path(
        "<id:patient_id>/coverages/<id:coverage_id>/card/<str:side>/",
        views_coverage.coverage_card_view,
        name="coverage_card",
    ),
    path("<id:patient_id>/addresses/new/", views_details.address_edit_view, name="address_add"),
    path(
        "<id:patient_id>/addresses/<id:address_id>/",
        views_details.address_edit_view,
        name="address_edit",
    ),
    path(
        "<id:patient_id>/addresses/<id:address_id>/remove/",
        views_details.address_remove_view,
        name="address_remove",
    ),
    path("<id:patient_id>/documents/new/", views_details.document_edit_view, name="document_add"),
    path(
        "<id:patient_id>/documents/<id:document_id>/",
        views_details.document_edit_view,
        name="document_edit",
    ),
    path(
        "<id:patient_id>/documents/<id:document_id>/remove/",
        views_details.document_remove_view,
        name="document_remove",
    ),
    path(
        "<id:patient_id>/household/<id:link_id>/remove/",
        views_details.household_unlink_view,
        name="household_unlink",
    ),
    path(
        "notices/<id:notice_id>/acknowledge/",
        views.notice_acknowledge_view,
        name="notice_acknowledge",
    ),
    path("<id:patient_id>/merge/", views_merge.merge_start_view, name="merge_start"),
    path(
        "merge/<id:survivor_id>/<id:merged_id>/",
        views_merge.merge_compare_view,
        name="merge_compare",
    ),
    path("merges/<id:merge_id>/undo/", views_merge.unmerge_view, name="unmerge"),
    path("payers/", views_coverage.payer_list_view, name="payers"),
    path("payers/new/", views_coverage.payer_edit_view, name="payer_add"),
    path("payers/<id:payer_id>/", views_coverage.payer_edit_view, name="payer_edit"),
]

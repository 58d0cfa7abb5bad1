from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from frontdesk.patients.selectors import BreakGlassRequiredError


class BreakGlassMiddleware:
    """Any view that meets a restricted record without a grant sends the user to give a
    reason first, then back to where they were going."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, BreakGlassRequiredError):
            return None
        url = reverse("patients:break_glass", kwargs={"patient_id": exception.patient.pk})
        target = request.get_full_path() if request.method == "GET" else ""
        query = f"?{urlencode({'next': target})}" if target else ""
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url + query
            return response
        return HttpResponseRedirect(url + query)

"""Exact Online's error answers: the OData error body, business-validation failures and their responses."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
# The generic text Exact shows for an unexpected server error (api-reference §5.3).
GENERIC_PROBLEM = "A problem has occurred. The cause of this issue will be investigated as soon as possible."


class ODataError(Exception):
    """A request Exact answers with an OData error body: {"error":{"code":"","message":{"lang":"","value":…}}}."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return odata_error_response(self.status, self.message, self.headers)


class ValidationFailed(ODataError):
    """Business validation on POST: Exact answers 500 (not 400), one problem per line in the UI's words."""

    def __init__(self, problems: Iterable[str]) -> None:
        unique = list(dict.fromkeys(problems))
        super().__init__(500, "\n".join(unique))
        self.problems = unique


def odata_error_body(message: str) -> bytes:
    return json.dumps({"error": {"code": "", "message": {"lang": "", "value": message}}}).encode()


def odata_error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(odata_error_body(message), status_code=status, headers=dict(headers or {}),
                    media_type=JSON_MEDIA_TYPE)


def bad_request(message: str) -> ODataError:
    return ODataError(400, message)


def not_found(segment: str) -> ODataError:
    # The wording of WCF Data Services, on which Exact's REST API is built.
    return ODataError(404, f"Resource not found for the segment '{segment}'.")

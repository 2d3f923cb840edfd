"""The AccountView error body and the sandbox's error classes.

Body shape ``{"ErrorType": "AccountViewError", "ErrorNumbers": [...]|null, "ErrorMessage": "..."}``
is observed in client code [C S1, S3]; the HTTP status and numbers per error class
are ASSUMPTIONS (see ``assumptions.ERRORS``).
"""

from __future__ import annotations

from ..http import Response
from .assumptions import ERRORS


class AccountViewError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status, number = ERRORS[kind]
        self.numbers = [number] if number is not None else None


def error_body(message: str, numbers: list[int] | None = None) -> dict:
    return {"ErrorType": "AccountViewError", "ErrorNumbers": numbers, "ErrorMessage": message}


def error_response(
    status: int, message: str, numbers: list[int] | None = None, with_http_200: bool = False
) -> Response:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else {}
    return Response.json(error_body(message, numbers), 200 if with_http_200 else status, headers)


def from_exception(exc: AccountViewError) -> Response:
    return error_response(exc.status, exc.message, exc.numbers)

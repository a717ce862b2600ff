"""A client library for accessing Questionnaire Exports API"""

from .client import AuthenticatedClient, Client
from .errors import (
    TRANSPORT_ERROR_KINDS,
    QuestionnaireExportsError,
    ResponseValidationError,
    TransportError,
    UnexpectedStatus,
)

__all__ = (
    "TRANSPORT_ERROR_KINDS",
    "AuthenticatedClient",
    "Client",
    "QuestionnaireExportsError",
    "ResponseValidationError",
    "TransportError",
    "UnexpectedStatus",
)

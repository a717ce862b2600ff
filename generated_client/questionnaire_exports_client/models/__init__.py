"""Contains all the data models used in inputs/outputs"""

from .create_questionnaire_export_request import CreateQuestionnaireExportRequest
from .export_completed import ExportCompleted
from .export_completed_event import ExportCompletedEvent
from .export_completed_event_export import ExportCompletedEventExport
from .export_failed import ExportFailed
from .export_failed_event import ExportFailedEvent
from .export_failed_event_export import ExportFailedEventExport
from .export_format import ExportFormat
from .export_pending import ExportPending
from .invalid_param import InvalidParam
from .problem import Problem
from .webhook_questionnaire import WebhookQuestionnaire

__all__ = (
    "CreateQuestionnaireExportRequest",
    "ExportCompleted",
    "ExportCompletedEvent",
    "ExportCompletedEventExport",
    "ExportFailed",
    "ExportFailedEvent",
    "ExportFailedEventExport",
    "ExportFormat",
    "ExportPending",
    "InvalidParam",
    "Problem",
    "WebhookQuestionnaire",
)

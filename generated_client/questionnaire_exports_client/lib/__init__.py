"""Hand-written helpers around the generated client: OAuth client credentials, waiting, downloading and webhook
verification.

They live here, inside the package, and nowhere else (listed in ``generator/handwritten.txt``; ``generate.sh``
never writes them), so vendoring the one package folder brings them along. They need only httpx, attrs and
the standard library.
"""

from ..redact import redact_url
from ._calls import IDEMPOTENT_RETRY_KINDS, UNSENT_RETRY_KINDS
from .backoff import MAX_RETRY_AFTER, Backoff, parse_retry_after
from .download import EXPIRED_LINK_STATUSES, download_export, download_export_async
from .errors import (
    TOKEN_ERROR_CODES,
    WEBHOOK_REJECTIONS,
    DownloadError,
    ExportApiError,
    HelperError,
    TokenError,
    WaitTimeout,
    WebhookRejection,
    WebhookVerificationError,
)
from .oauth import MAX_TOKEN_LIFETIME, MAX_TOKEN_RESPONSE_BYTES, ClientCredentials
from .waiting import (
    CREATE_RETRY_STATUSES,
    POLL_RETRY_STATUSES,
    Poll,
    TerminalExport,
    create_and_wait,
    create_and_wait_async,
    create_export,
    create_export_async,
    wait_for_export,
    wait_for_export_async,
)
from .webhooks import WebhookEvent, WebhookVerifier, sign_webhook, verify_webhook, webhook_signature

__all__ = [
    "CREATE_RETRY_STATUSES",
    "EXPIRED_LINK_STATUSES",
    "IDEMPOTENT_RETRY_KINDS",
    "MAX_RETRY_AFTER",
    "MAX_TOKEN_LIFETIME",
    "MAX_TOKEN_RESPONSE_BYTES",
    "POLL_RETRY_STATUSES",
    "TOKEN_ERROR_CODES",
    "UNSENT_RETRY_KINDS",
    "WEBHOOK_REJECTIONS",
    "Backoff",
    "ClientCredentials",
    "DownloadError",
    "ExportApiError",
    "HelperError",
    "Poll",
    "TerminalExport",
    "TokenError",
    "WaitTimeout",
    "WebhookEvent",
    "WebhookRejection",
    "WebhookVerificationError",
    "WebhookVerifier",
    "create_and_wait",
    "create_and_wait_async",
    "create_export",
    "create_export_async",
    "download_export",
    "download_export_async",
    "parse_retry_after",
    "redact_url",
    "sign_webhook",
    "verify_webhook",
    "wait_for_export",
    "wait_for_export_async",
    "webhook_signature",
]

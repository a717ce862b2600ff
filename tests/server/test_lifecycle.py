"""The export lifecycle over real HTTP: create, poll, complete or fail, download and read the file back."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import docx
import httpx
import openpyxl
import pytest

from contract import download_media_types
from reference_server.clock import ManualClock
from reference_server.seed import (
    DOCUMENT_QUESTIONNAIRE_ID,
    EXPORT_COLUMNS,
    FAILING_QUESTIONNAIRE_ID,
    HOSTING_QUESTIONNAIRE_ID,
    QUESTIONNAIRES,
    SPREADSHEET_QUESTIONNAIRE_ID,
    UNSUPPORTED_QUESTION_TYPES_MESSAGE,
)
from reference_server.testing import ServerHandle, running_server

from .server_test_helpers import EXPORTS, assert_problem, assert_valid, client_for, create, wait_until_done

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _expected_rows(questionnaire_id: str) -> list[list[str]]:
    questions = QUESTIONNAIRES[questionnaire_id].questions
    return [list(EXPORT_COLUMNS)] + [
        [q.section, q.number, q.text, q.type, q.answer, q.comment] for q in questions
    ]


def _parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_create_answers_pending_then_completes_as_csv(client: httpx.Client) -> None:
    pending = create(client, SPREADSHEET_QUESTIONNAIRE_ID, "csv")
    assert pending["status"] == "pending" and pending["format"] == "csv"
    assert pending["requestedAt"].endswith("Z") and len(pending["requestedAt"]) == 24
    first = client.get(f"{EXPORTS}/{pending['id']}")
    assert first.status_code == 200 and first.json()["status"] in {"pending", "completed"}
    done = wait_until_done(client, pending["id"]).json()
    assert_valid(done, "ExportCompleted")
    assert done["requestedAt"] == pending["requestedAt"]
    assert _parse_timestamp(done["completedAt"]) >= _parse_timestamp(done["requestedAt"])
    file = httpx.get(done["downloadUrl"])  # no Authorization header
    assert file.status_code == 200
    assert file.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(file.content.decode("utf-8"))))
    assert rows == _expected_rows(SPREADSHEET_QUESTIONNAIRE_ID)


@pytest.mark.parametrize("questionnaire_id", [SPREADSHEET_QUESTIONNAIRE_ID, HOSTING_QUESTIONNAIRE_ID])
def test_original_format_of_a_spreadsheet_is_a_real_xlsx(client: httpx.Client, questionnaire_id: str) -> None:
    done = wait_until_done(client, create(client, questionnaire_id, "original")["id"]).json()
    assert_valid(done, "ExportCompleted")
    assert urlsplit(done["downloadUrl"]).path.endswith(".xlsx")
    file = httpx.get(done["downloadUrl"])
    assert file.status_code == 200 and file.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(file.content), read_only=True).active
    cells = [
        ["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert cells == _expected_rows(questionnaire_id)


def test_original_format_of_a_document_is_a_real_docx(client: httpx.Client) -> None:
    done = wait_until_done(client, create(client, DOCUMENT_QUESTIONNAIRE_ID, "original")["id"]).json()
    assert_valid(done, "ExportCompleted")
    assert urlsplit(done["downloadUrl"]).path.endswith(".docx")
    file = httpx.get(done["downloadUrl"])
    assert file.status_code == 200
    assert file.headers["content-type"] in download_media_types()["original"]
    assert file.headers["content-type"] != XLSX
    assert file.headers["content-disposition"].endswith('.docx"')
    document = docx.Document(io.BytesIO(file.content))
    assert document.core_properties.title == QUESTIONNAIRES[DOCUMENT_QUESTIONNAIRE_ID].name
    assert document.paragraphs[0].text == QUESTIONNAIRES[DOCUMENT_QUESTIONNAIRE_ID].name
    [table] = document.tables
    assert [[cell.text for cell in row.cells] for row in table.rows] == _expected_rows(
        DOCUMENT_QUESTIONNAIRE_ID
    )
    csv_done = wait_until_done(client, create(client, DOCUMENT_QUESTIONNAIRE_ID, "csv")["id"]).json()
    assert httpx.get(csv_done["downloadUrl"]).headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("export_format", ["csv", "original"])
def test_unsupported_question_types_fail(client: httpx.Client, export_format: str) -> None:
    done = wait_until_done(client, create(client, FAILING_QUESTIONNAIRE_ID, export_format)["id"]).json()
    assert_valid(done, "ExportFailed")
    assert done["errorMessage"] == UNSUPPORTED_QUESTION_TYPES_MESSAGE
    assert _parse_timestamp(done["failedAt"]) >= _parse_timestamp(done["requestedAt"])


def test_terminal_fields_never_change_and_each_get_issues_a_fresh_link() -> None:
    clock = ManualClock(datetime(2025, 1, 8, 12, 0, 0, 123000, tzinfo=UTC))
    with running_server(clock=clock, export_delay=0.0) as server, client_for(server) as http:
        export = create(http, SPREADSHEET_QUESTIONNAIRE_ID, "csv")
        assert export["requestedAt"] == "2025-01-08T12:00:00.123Z"
        first = wait_until_done(http, export["id"])
        clock.advance(seconds=90)
        second = http.get(f"{EXPORTS}/{export['id']}")
        a, b = first.json(), second.json()
        for name in ("id", "status", "format", "requestedAt", "completedAt"):
            assert a[name] == b[name]
        assert a["downloadUrl"] != b["downloadUrl"]
        for response in (first, second):
            body = response.json()
            sent = parsedate_to_datetime(response.headers["date"])
            assert _parse_timestamp(body["expiresAt"]) == sent + timedelta(hours=24)
            expires = parse_qs(urlsplit(body["downloadUrl"]).query)["expires"]
            assert [int(_parse_timestamp(body["expiresAt"]).timestamp())] == [int(e) for e in expires]


def _completed_link(server: ServerHandle) -> str:
    with client_for(server) as http:
        done = wait_until_done(http, create(http, SPREADSHEET_QUESTIONNAIRE_ID, "csv")["id"]).json()
    link: str = done["downloadUrl"]
    return link


def test_link_expires_after_exactly_24_hours() -> None:
    clock = ManualClock(datetime(2025, 1, 8, 12, 0, tzinfo=UTC))
    with running_server(clock=clock, export_delay=0.0) as server:
        link = _completed_link(server)
        clock.advance(hours=24, seconds=-1)
        assert httpx.get(link).status_code == 200
        clock.advance(seconds=1)
        body = assert_problem(httpx.get(link), 403)
        assert "expired" in body["detail"]


def _with_query(link: str, **changes: str) -> str:
    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode({k: v for k, v in query.items() if v != "-"})))


def test_tampered_links_are_forbidden(server: ServerHandle) -> None:
    link = _completed_link(server)
    query = parse_qs(urlsplit(link).query)
    signature, expires = query["signature"][0], query["expires"][0]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    tampered = [
        _with_query(link, signature=flipped),
        _with_query(link, expires=str(int(expires) + 3600)),
        _with_query(link, signature="-"),
        _with_query(link, expires="-"),
        _with_query(link, expires="soon"),
        link.replace(".csv?", ".xlsx?"),
    ]
    for url in tampered:
        body = assert_problem(httpx.get(url), 403)
        assert signature not in body["detail"]
    assert httpx.get(link).status_code == 200


def test_download_route_rejects_other_methods(server: ServerHandle) -> None:
    assert_problem(httpx.post(_completed_link(server)), 405)

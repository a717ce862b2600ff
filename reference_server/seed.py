"""The questionnaires the reference server knows, with their questions and answers.

Why: exports must contain real content so tests can read a downloaded CSV/XLSX back and compare it with
what was seeded. The spreadsheet questionnaire uses the id of the spec's own examples, so example-driven
tools (Schemathesis' examples phase, the stateful phase) reach ``202`` and ``completed`` exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Question types the exporter can render. Anything else fails the export.
SUPPORTED_QUESTION_TYPES = frozenset({"yes_no", "text", "multiple_choice"})
#: The failure message the vendor documents, used verbatim.
UNSUPPORTED_QUESTION_TYPES_MESSAGE = "The questionnaire contains unsupported question types."
#: Column headers of every export (CSV header row, XLSX first row).
EXPORT_COLUMNS = ("Section", "Number", "Question", "Type", "Answer", "Comment")

SPREADSHEET_QUESTIONNAIRE_ID = "65a5d6e2f1a2b3c4d5e6f7a8"
DOCUMENT_QUESTIONNAIRE_ID = "65a5d6e2f1a2b3c4d5e6f7b1"
FAILING_QUESTIONNAIRE_ID = "65a5d6e2f1a2b3c4d5e6f7c2"
HOSTING_QUESTIONNAIRE_ID = "65a5d6e2f1a2b3c4d5e6f7d3"


@dataclass(frozen=True)
class Question:
    """One question with the answer the customer-trust team gave."""

    section: str
    number: str
    text: str
    type: str
    answer: str
    comment: str = ""


@dataclass(frozen=True)
class Questionnaire:
    """A questionnaire as received from a prospect: spreadsheet-style or document-style."""

    id: str
    name: str
    style: Literal["spreadsheet", "document"]
    questions: tuple[Question, ...]

    @property
    def supported(self) -> bool:
        """Whether every question has a type the exporter can render."""
        return all(q.type in SUPPORTED_QUESTION_TYPES for q in self.questions)


_SPREADSHEET = Questionnaire(
    id=SPREADSHEET_QUESTIONNAIRE_ID,
    name="Vendor Security Assessment (Lite)",
    style="spreadsheet",
    questions=(
        Question(
            "Governance",
            "1.1",
            "Do you maintain a documented information security policy?",
            "yes_no",
            "Yes",
            "Reviewed annually by the CISO; last review 2024-11.",
        ),
        Question(
            "Governance",
            "1.2",
            "Which frameworks is your program certified against?",
            "multiple_choice",
            "SOC 2 Type II; ISO/IEC 27001",
        ),
        Question(
            "Access control",
            "2.1",
            "Is multi-factor authentication enforced for all employees?",
            "yes_no",
            "Yes",
            "Enforced through the identity provider, hardware keys for admins.",
        ),
        Question(
            "Access control",
            "2.2",
            "How often are user access rights reviewed?",
            "text",
            "Quarterly for production systems, semi-annually for internal tools.",
        ),
        Question(
            "Data protection",
            "3.1",
            "Is customer data encrypted at rest?",
            "yes_no",
            "Yes",
            "AES-256, keys managed in a cloud KMS, rotated yearly.",
        ),
        Question(
            "Data protection",
            "3.2",
            "Describe your data retention policy.",
            "text",
            'Customer data is deleted within 30 days of contract end, "backups" within 90 days.',
        ),
        Question(
            "Incident response",
            "4.1",
            "Within what time do you notify customers of a breach?",
            "multiple_choice",
            "72 hours",
            "Contractual commitment in the DPA, section 9.",
        ),
    ),
)

_DOCUMENT = Questionnaire(
    id=DOCUMENT_QUESTIONNAIRE_ID,
    name="Data Processing Due-Diligence Questionnaire",
    style="document",
    questions=(
        Question(
            "Processing",
            "A",
            "Describe the categories of personal data you process for us.",
            "text",
            "Names, business e-mail addresses and usage logs of authorised users.",
        ),
        Question(
            "Processing",
            "B",
            "Do you use sub-processors?",
            "yes_no",
            "Yes",
            "Listed at https://example.com/subprocessors, 30 days' notice of changes.",
        ),
        Question("Transfers", "C", "Is personal data transferred outside the EEA?", "yes_no", "No"),
        Question(
            "Security",
            "D",
            "Summarise your technical and organisational measures.",
            "text",
            "Encryption in transit and at rest, least-privilege access,\nannual penetration tests.",
        ),
    ),
)

_FAILING = Questionnaire(
    id=FAILING_QUESTIONNAIRE_ID,
    name="Legacy Procurement Workbook",
    style="spreadsheet",
    questions=(
        Question("General", "1", "Company legal name", "text", "Example Trust Inc."),
        Question("General", "2", "Attach your org chart", "file_upload", ""),
        Question("Controls", "3", "Rate each control family (matrix)", "matrix", ""),
    ),
)

_HOSTING = Questionnaire(
    id=HOSTING_QUESTIONNAIRE_ID,
    name="Cloud Hosting Questionnaire",
    style="spreadsheet",
    questions=(
        Question("Infrastructure", "1", "Which cloud providers host production?", "multiple_choice", "AWS"),
        Question(
            "Infrastructure", "2", "Are production environments segregated from development?", "yes_no", "Yes"
        ),
        Question(
            "Resilience",
            "3",
            "What is your recovery time objective?",
            "text",
            "4 hours",
            "Tested twice a year.",
        ),
    ),
)

#: Every seeded questionnaire by id.
QUESTIONNAIRES: dict[str, Questionnaire] = {q.id: q for q in (_SPREADSHEET, _DOCUMENT, _FAILING, _HOSTING)}

"""The validator's fast path must never accept a value its detailed path refuses (it may refuse more)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from questionnaire_exports_client import _validation

FIELDS = {
    "string": _validation.Field("string", min_length=1),
    "date-time": _validation.Field("date-time"),
    "uri": _validation.Field("uri"),
    "enum": _validation.Field("enum", choices=["csv", "original"]),
    "const": _validation.Field("const", choices=["completed"]),
}
NEAR_DATE_TIMES = st.from_regex(
    r"\d{4}-[0-3]\d-[0-3]\d[Tt ][0-2]\d:[0-6]\d:[0-6]\d(\.\d{1,6})?([Zz]|[+-][0-2]\d:[0-6]\d)?",
    fullmatch=True,
)
NEAR_URIS = st.from_regex(r"[a-z]{1,6}:(//)?[a-z.]{0,10}(/[a-z ?#%]{0,8}){0,3}", fullmatch=True)
VALUES = st.one_of(
    NEAR_DATE_TIMES,
    NEAR_URIS,
    st.text(max_size=30),
    st.sampled_from(["csv", "original", "Csv", "completed", "", "https://a/b?signature=x"]),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
)


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(FIELDS)), VALUES)
def test_fast_acceptance_implies_detailed_acceptance(kind: str, value: object) -> None:
    spec = FIELDS[kind]
    if _validation._fast_predicate(spec)(value):
        assert _validation._check_value(spec, value) is None, (kind, value)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(NEAR_DATE_TIMES)
def test_fast_and_detailed_agree_on_well_formed_date_times(value: str) -> None:
    spec = FIELDS["date-time"]
    detailed = _validation._check_value(spec, value) is None
    fast = _validation._fast_predicate(spec)(value)
    assert fast == detailed or (detailed and ":60" in value), value

#!/usr/bin/env bash
# Regenerate the vendored client from openapi.yaml (run by `make gen`; `make check-gen` passes --check).
#
#   ./generate.sh           write generated_client/questionnaire_exports_client/
#   ./generate.sh --check   generate into a temporary folder and fail, with a unified diff, if the
#                           committed package differs
#
# Steps: the pinned openapi-python-client renders the spec with our templates (generator/templates), and the
# pinned ruff formats the result with the project's own configuration. generator/sync.py then writes only the
# generated files: the hand-written ones (lib/, _validation.py, _transport.py, ...) live in the package itself,
# are listed in generator/handwritten.txt and are never touched; a file that is neither is removed (write) or
# reported (check). Never edit a generated file by hand.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(pwd)"
PACKAGE=questionnaire_exports_client
DEST="$ROOT/generated_client/$PACKAGE"
GENERATOR_VERSION=0.29.1

mode=write
if [[ "${1:-}" == "--check" ]]; then mode=check; elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--check]" >&2; exit 2
fi

installed="$(openapi-python-client --version 2>/dev/null | awk '{print $NF}')"
if [[ "$installed" != "$GENERATOR_VERSION" ]]; then
  echo "generate.sh: needs openapi-python-client $GENERATOR_VERSION, found '${installed:-none}' (run make venv)" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$work/fresh/$PACKAGE"

# The generator prints absolute paths; keep its output quiet unless it fails.
if ! openapi-python-client generate \
    --path "$ROOT/openapi.yaml" \
    --config "$ROOT/generator/config.yml" \
    --custom-template-path "$ROOT/generator/templates" \
    --meta none \
    --fail-on-warning \
    --output-path "$out" >"$work/generator.log" 2>&1; then
  cat "$work/generator.log" >&2
  exit 1
fi

# The templates never fall back silently: an unknown field kind or a union without a tag renders a marker.
if grep -rhoE 'GENERATION-ERROR: [^"]*' "$out" >"$work/errors.txt"; then
  echo "generate.sh: generation refused:" >&2
  sed 's/^/  /' "$work/errors.txt" | sort -u >&2
  exit 1
fi

# Post-hook, run here rather than from config.yml so that it sees the project's ruff configuration
# wherever the output is written: drop unused imports, sort them, format.
ruff check --config "$ROOT/pyproject.toml" --quiet --fix-only --select F401,I --exit-zero "$out"
ruff format --config "$ROOT/pyproject.toml" --quiet "$out" || { echo "generate.sh: the generated code does not parse (a template is broken)" >&2; exit 1; }

# Only the generated files take part; the sync works relative to generated_client/ (the package folder plus
# the hand-written pyproject.toml beside it).
if [[ "$mode" == check ]]; then
  if [[ ! -d "$DEST" ]]; then echo "check-gen: $DEST is missing; run make gen" >&2; exit 1; fi
  python "$ROOT/generator/sync.py" check "$work/fresh" "$ROOT/generated_client" "$ROOT/generator/handwritten.txt"
else
  python "$ROOT/generator/sync.py" write "$work/fresh" "$ROOT/generated_client" "$ROOT/generator/handwritten.txt"
  echo "generated $PACKAGE into generated_client/"
fi

#!/usr/bin/env bash
# Regenerate the vendored client from openapi.yaml (run by `make gen`; `make check-gen` passes --check).
#
#   ./generate.sh           write generated_client/questionnaire_exports_client/
#   ./generate.sh --check   generate into a temporary folder and fail, listing the files, if the
#                           committed package differs
#
# Steps: the pinned openapi-python-client renders the spec with our templates (generator/templates),
# the hand-written runtime (generator/runtime) and helpers (client_lib -> lib/) are copied in, and the
# pinned ruff formats the result with the project's own configuration. Never edit the output by hand.
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
out="$work/$PACKAGE"

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

if compgen -G "$ROOT/generator/runtime/*.py" >/dev/null; then cp "$ROOT"/generator/runtime/*.py "$out/"; fi
if [[ -d "$ROOT/client_lib" ]] && compgen -G "$ROOT/client_lib/*.py" >/dev/null; then
  mkdir -p "$out/lib"
  (cd "$ROOT/client_lib" && find . -name '*.py' -not -path '*/__pycache__/*' | sort | while read -r f; do
    mkdir -p "$out/lib/$(dirname "$f")"; cp "$f" "$out/lib/$f"; done)
fi
touch "$out/py.typed"

# Post-hook, run here rather than from config.yml so that it sees the project's ruff configuration
# wherever the output is written: drop unused imports, sort them, format.
ruff check --config "$ROOT/pyproject.toml" --quiet --fix-only --select F401,I --exit-zero "$out"
ruff format --config "$ROOT/pyproject.toml" --quiet "$out" || { echo "generate.sh: the generated code does not parse (a template is broken)" >&2; exit 1; }

if [[ "$mode" == check ]]; then
  if [[ ! -d "$DEST" ]]; then echo "check-gen: $DEST is missing; run make gen" >&2; exit 1; fi
  if ! diff -rq --exclude=__pycache__ "$out" "$DEST" >"$work/diff.txt"; then
    echo "check-gen: generated_client/ differs from what openapi.yaml and the templates produce:" >&2
    sed -e "s#$work/##g" -e "s#$ROOT/##g" "$work/diff.txt" >&2
    echo "check-gen: run 'make gen' and commit the result; never edit generated_client/ by hand" >&2
    exit 1
  fi
  echo "check-gen: generated_client/ is up to date"
else
  mkdir -p "$(dirname "$DEST")"
  rm -rf "$DEST.new" && cp -r "$out" "$DEST.new"
  rm -rf "$DEST" && mv "$DEST.new" "$DEST"
  echo "generated $PACKAGE into generated_client/"
fi

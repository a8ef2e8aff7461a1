# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Each first runs scripts/bootstrap.sh, which installs only what is missing.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint typecheck unit package dates example bench clean

setup:
	@scripts/bootstrap.sh

demo: setup
	$(BIN)/ecrin demo

test: setup lint typecheck package dates example unit

lint: setup
	$(BIN)/ruff check hub plugins tests bench examples
	$(BIN)/ruff format --check hub plugins tests bench examples

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest

# The wheel installed outside the tree, as a shop installs it (scripts/check-wheel.sh).
package: setup
	PYTHON=$(BIN)/python scripts/check-wheel.sh

# The date-sensitive tests with the machine's clock on chosen days (scripts/test-dates.sh).
dates: setup
	PYTHON=$(BIN)/python scripts/test-dates.sh

# The example plugin installed from outside the tree, with its tests (scripts/test-example.sh).
example: setup
	PYTHON=$(BIN)/python scripts/test-example.sh

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache bench/results

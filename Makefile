# The two Quick start commands. Everything else is in scripts/ and the `tocsin` CLI.
.PHONY: bench-engine run test lint bench bench-intake setup

setup:
	scripts/setup.sh --dev

run:
	scripts/run.sh

test: setup
	.venv/bin/pytest -q

lint: setup
	.venv/bin/ruff check .

bench: setup
	.venv/bin/python bench/api.py

bench-intake: setup
	.venv/bin/python bench/intake.py

bench-engine: setup
	.venv/bin/python bench/engine.py

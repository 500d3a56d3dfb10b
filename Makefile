# EventDesk: `make run` opens the app on the demo event; `make test` runs every check.
# Both do their own set-up on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen

# Debian packages the tests need: Qt's runtime libraries for offscreen rendering (and the xcb
# ones the frozen bundle's platform plugin loads), PulseAudio's client library for the scan
# sounds (QtMultimedia), poppler for rendering PDFs to images, CUPS with a PDF printer for the
# printing test, fonts for CJK names.
DEB_PACKAGES := libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 \
	libxcb-icccm4 libxcb-keysyms1 libpulse0 \
	poppler-utils cups cups-client cups-bsd printer-driver-cups-pdf fonts-noto-cjk

.PHONY: run test venv system-deps lint typecheck contracts migrations-check pytest package package-test clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	unset QT_QPA_PLATFORM; $(BIN)/eventdesk gui --demo

system-deps:
	@bash .ci/system-deps $(DEB_PACKAGES)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

contracts: $(STAMP)
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

migrations-check: $(STAMP)
	mkdir -p build && rm -f build/alembic-check.sqlite3
	$(BIN)/alembic upgrade head
	$(BIN)/alembic check

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

test: $(STAMP) system-deps lint contracts typecheck migrations-check pytest

# The desk application for this system: dist/eventdesk/ (dist/EventDesk.app on macOS), and on
# Linux dist/eventdesk-VERSION-linux-ARCH.tar.gz. See packaging/README.md.
package: $(STAMP)
	$(BIN)/python -m PyInstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller packaging/eventdesk.spec
	if [ "$$(uname -s)" = Linux ]; then \
		version=$$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml); \
		tar -C dist -czf "dist/eventdesk-$$version-linux-$$(uname -m).tar.gz" eventdesk; fi

# Builds the Linux bundle and runs the frozen program; `make test` runs it too (it is in pytest).
package-test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q tests/test_packaging.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache

"""Fixtures shared by every test: data folders under tmp_path, a migrated store, the demo."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.store import Store, open_store

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever touches the real user data folder or real Qt settings."""
    monkeypatch.setenv("EVENTDESK_DATA", str(tmp_path / "default-data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data folder for one test."""
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    """A real SQLite store, migrated to head, with no event."""
    from desktop.store import open_store

    opened = open_store(data_dir)
    yield opened
    opened.close()


@pytest.fixture
def demo_store(store: Store) -> Store:
    """A store holding the demo event, opened at this desk."""
    from desktop.demo import create_demo

    with store.begin() as session:
        create_demo(session, store.data_dir)
    return store


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the demo event, built once; copy it with ``copy_demo``."""
    from desktop.demo import create_demo
    from desktop.store import open_store

    folder = tmp_path_factory.mktemp("demo-template")
    opened = open_store(folder)
    with opened.begin() as session:
        create_demo(session, opened.data_dir)
    opened.close()
    return folder


@pytest.fixture
def data(demo_template: Path, tmp_path: Path) -> Path:
    """A data folder holding a copy of the demo event, for commands run on it."""
    folder = tmp_path / "d"
    shutil.copytree(demo_template, folder)
    return folder


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Iterator[Store]:
    """The demo event in a store of its own, opened (a copy of the session's template)."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_template, folder)
    opened = open_store(folder)
    yield opened
    opened.close()

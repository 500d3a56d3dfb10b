"""PyInstaller hook for PySide6.QtGui, used instead of PyInstaller's own (user hooks win).

It collects the same files minus Qt plugins no registration desk needs. Dropping a plugin here,
before PyInstaller follows its library links, also drops every library only it needed (the
on-screen keyboard alone brings QtQuick and QtQml, about 17 MB on Linux).
"""

from __future__ import annotations

from pathlib import PurePath

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

# Plugin file names contain these words; the same words match on Linux, Windows and macOS.
UNWANTED_PLUGINS = (
    "qtvirtualkeyboardplugin",  # on-screen keyboard (QtQuick); a desk has a real keyboard
    "qgtk3",  # GTK look; EventDesk draws its own style, and it would bring GTK's libraries
    "qeglfs",  # full-screen embedded-device platforms, not desktop sessions
    "qlinuxfb",
    "qvnc",
    "qvkkhrdisplay",
    "qminimalegl",
)
UNWANTED_PLUGIN_TYPES = ("egldeviceintegrations", "generic")  # only used by those platforms

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [
    (source, dest)
    for source, dest in binaries
    if not any(word in PurePath(source).name for word in UNWANTED_PLUGINS)
    and PurePath(dest).name not in UNWANTED_PLUGIN_TYPES
]

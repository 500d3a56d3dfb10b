"""A distinct short sound per kind of scan decision, played with QtMultimedia.

The WAV files in ``resources/sounds`` are made by :func:`write_sounds` from a few tones, so
they are reproducible byte for byte (run ``python -m desktop.ui.qt_sounds`` to remake them).
QtMultimedia is loaded only when a sound is first played, and not at all on the offscreen
platform (tests, screenshots): nobody is listening there and it only logs complaints.
"""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QGuiApplication

from desktop.paths import resources_dir

RATE = 22_050
# (frequency Hz, milliseconds); a frequency of 0 is a pause.
Tones = Sequence[tuple[float, int]]
SOUNDS: dict[str, Tones] = {
    "welcome": ((1047, 90), (1319, 140)),  # rising: come in
    "goodbye": ((1319, 90), (1047, 140)),  # falling: on your way
    "again": ((880, 70), (0, 50), (880, 70)),  # two equal beeps: seen before
    "caution": ((740, 200),),  # one middle tone: admit, but look
    "door": ((392, 140), (0, 40), (294, 220)),  # two low tones: not this door, not now
    "refused": ((196, 380),),  # one low buzz: do not admit
}
DECISION_SOUNDS: dict[str, str] = {
    "ok": "welcome",
    "exit_ok": "goodbye",
    "already_in": "again",
    "not_synced": "caution",
    "not_open": "door",
    "session_full": "door",
    "not_permitted": "door",
    "invalid": "refused",
    "forged": "refused",
    "wrong_event": "refused",
    "revoked": "refused",
    "cancelled": "refused",
}


def sounds_dir() -> Path:
    """Where the sound files live."""
    return resources_dir() / "sounds"


def _samples(tones: Tones, buzz: bool) -> bytes:
    frames = bytearray()
    for frequency, millis in tones:
        count = RATE * millis // 1000
        fade = max(1, RATE * 8 // 1000)  # 8 ms ramps: no clicks at the edges
        for i in range(count):
            if frequency == 0:
                value = 0.0
            else:
                phase = 2 * math.pi * frequency * i / RATE
                value = math.sin(phase)
                if buzz:
                    # Odd harmonics make the refusal rough and unmistakable.
                    value = 0.7 * value + 0.3 * math.sin(3 * phase)
            envelope = min(1.0, i / fade, (count - 1 - i) / fade)
            frames += struct.pack("<h", round(value * envelope * 0.45 * 32767))
    return bytes(frames)


def write_sounds(folder: Path | None = None) -> list[Path]:
    """Write every sound as a 16-bit mono WAV file; returns the paths."""
    target = folder or sounds_dir()
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, tones in SOUNDS.items():
        path = target / f"{name}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(_samples(tones, buzz=name == "refused"))
        written.append(path)
    return written


class SoundBoard(QObject):
    """Plays the sound of a decision, unless sound is off or there is no audio output."""

    def __init__(self, parent: QObject | None = None, *, enabled: bool = True) -> None:
        super().__init__(parent)
        self.enabled = enabled
        self.last_played: str | None = None
        self._effects: dict[str, Any] | None = None

    def sound_for(self, decision: str, forced: bool = False) -> str:
        """The sound's name for a decision (a forced admission sounds like a welcome)."""
        return "welcome" if forced else DECISION_SOUNDS.get(decision, "refused")

    def play(self, decision: str, forced: bool = False) -> str | None:
        """Play the decision's sound; returns its name, or None when sound is off."""
        if not self.enabled:
            return None
        name = self.sound_for(decision, forced)
        self.last_played = name
        effects = self._load()
        effect = effects.get(name)
        if effect is not None:
            effect.play()
        return name

    def _load(self) -> dict[str, Any]:
        if self._effects is not None:
            return self._effects
        self._effects = {}
        if QGuiApplication.platformName() in ("offscreen", "minimal"):
            return self._effects
        try:
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
        except ImportError:  # no multimedia libraries on this machine: stay silent
            return self._effects
        if not QMediaDevices.audioOutputs():
            return self._effects
        for name in SOUNDS:
            path = sounds_dir() / f"{name}.wav"
            if not path.exists():
                continue
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            effect.setVolume(0.8)
            self._effects[name] = effect
        return self._effects


if __name__ == "__main__":
    for written in write_sounds():
        print(written)

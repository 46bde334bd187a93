"""The viewer's current frame and how play, the slider and previous/next move it."""

from __future__ import annotations


class Playback:
    """A frame index in ``[0, frames)``; playing advances it in real time at ``fps``."""

    def __init__(self, frames: int, fps: float, loop: bool = True) -> None:
        self.frames = max(int(frames), 1)
        self.fps = float(fps)
        self.loop = loop
        self.frame = 0
        self._position = 0.0  # fractional frame while playing

    def set(self, frame: int) -> int:
        """Go to ``frame`` (clamped to the range), as the slider does."""
        self.frame = min(max(int(frame), 0), self.frames - 1)
        self._position = float(self.frame)
        return self.frame

    def next(self) -> int:
        """One frame on; the last frame stays."""
        return self.set(self.frame + 1)

    def previous(self) -> int:
        """One frame back; the first frame stays."""
        return self.set(self.frame - 1)

    def advance(self, seconds: float) -> tuple[int, bool]:
        """Play on by ``seconds``: (the new frame, whether play ended at the last frame).

        With ``loop`` the frame wraps to 0 after the last; without, it stops there.
        """
        self._position += max(seconds, 0.0) * self.fps
        if self._position < self.frames:
            self.frame = int(self._position)
            return self.frame, False
        if self.loop:
            self._position %= self.frames
            self.frame = int(self._position)
            return self.frame, False
        return self.set(self.frames - 1), True

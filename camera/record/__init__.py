"""Event clips: a short H.264 MP4 per event, from ``clips.pre_s`` before it to ``post_s`` after.

``recorder.Recorder`` is the part the pipeline talks to; ``planner`` decides which events share
which recording, ``worker`` encodes and writes off the frame loop, ``writer`` makes crash-safe
files, ``budget`` keeps the disk bounded and ``recovery`` tidies up after a crash; ``config``
holds the ``clips:`` section and ``commands`` the ``ronda clip`` command.

Nothing is imported here, so that registering ``ronda clip`` loads neither pydantic nor PyAV
(``ronda --version`` runs on a bare Python).
"""

"""``ronda demo``: a short scene built from real photos, replayed through the real pipeline."""

from camera.demo.scene import DemoSceneError, build_scene

__all__ = ["DemoSceneError", "build_scene"]

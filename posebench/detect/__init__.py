"""2D keypoint detection on photographs and video: an offline detector's landmarks written as
OpenPose BODY_25 JSON, so ``posebench fit-image`` and OpenPose users meet the same files."""

"""Robot Framework keyword library of the harness: `Library    harness.robot.HarnessLibrary`."""

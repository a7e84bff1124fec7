"""The prompt-injection detector's data, training, calibration and evaluation."""

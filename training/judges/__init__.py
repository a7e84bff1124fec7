"""Training of the judges' classifiers."""

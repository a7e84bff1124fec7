"""Adaptive routing: live target statistics, circuit breaking and the ordering policies."""

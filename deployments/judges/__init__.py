"""Evaluation judges: checks of what a model answered (docs/judges.md). Each judge takes the request's messages,
the answer and any retrieved context and gives a :class:`~deployments.judges.verdict.Verdict`."""

"""Authoring: the review workflow (draft → review → approved → retired), its comments, history and
translation checks."""

"""Delivery: tests and students' sessions, the CAT bank and configuration, the student's view of an
item and the scoring of responses."""

"""Accounts: users and their roles, password and login security, the audit log."""

"""The roles a user can have (a plain tuple, so that the command line can offer them without the
database layer)."""

ROLES = ("student", "teacher", "reviewer", "translator", "researcher", "school_admin", "admin")

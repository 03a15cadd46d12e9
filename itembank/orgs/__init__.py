"""Organisations: cities, schools, classes, students and rosters, and the scope rules that say which
of them each user may see."""

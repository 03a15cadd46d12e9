"""Which materials a user sees, as where-clauses built on :mod:`itembank.orgs.scope` (nothing is
read and then filtered in Python).

A material records the school and city it was shared from.  Its ``visibility``:

- ``school``: users of that school (a teacher linked to one of its classes, its school
  administrator, a user whose ``school_id`` is that school);
- ``city``: users of that city (as above, or ``User.city_id``);
- ``partners``: users of any city of the installation, the home city and every partner city
  (a partner city sees what is shared with partner cities, never what is kept to one city);
- ``public``: every signed-in member of staff.

Others see a material only once it is **approved**.  The owner always sees their own.  Reviewers
and administrators see every material to review it; a reviewer with a ``city_id`` only their
city's (and, like everyone, approved ones visible to them).  Students see none.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from itembank.orgs.models import City, School, SchoolClass
from itembank.orgs.scope import Viewer, taught_class_ids

from .models import Material

__all__ = ["STAFF_ROLES", "material_clause", "materials_visible_to", "reviewable_clause",
           "viewer_city_ids", "viewer_school_ids"]

STAFF_ROLES = ("teacher", "reviewer", "translator", "researcher", "school_admin", "admin")


def viewer_school_ids(user: Viewer) -> Select[int]:
    """The schools ``user`` belongs to: ``User.school_id`` and the schools of their classes."""
    taught = select(SchoolClass.school_id).where(SchoolClass.id.in_(taught_class_ids(user)))
    if user.school_id is None:
        return select(School.id).where(School.id.in_(taught))
    return select(School.id).where(or_(School.id == user.school_id, School.id.in_(taught)))


def viewer_city_ids(user: Viewer) -> Select[int]:
    """The cities ``user`` belongs to: ``User.city_id`` and the cities of their schools."""
    of_schools = School.id.in_(viewer_school_ids(user))
    if user.city_id is None:
        return select(City.id).where(City.id.in_(select(School.city_id).where(of_schools)))
    return select(City.id).where(
        or_(City.id == user.city_id, City.id.in_(select(School.city_id).where(of_schools)))
    )


def _shared_with(user: Viewer) -> ColumnElement[bool]:
    """Approved materials shared with ``user`` by their visibility."""
    cities = viewer_city_ids(user)
    return and_(
        Material.status == "approved",
        or_(
            Material.visibility == "public",
            and_(Material.visibility == "partners", cities.exists()),
            and_(Material.visibility == "city", Material.city_id.in_(cities)),
            and_(Material.visibility == "school", Material.school_id.in_(viewer_school_ids(user))),
        ),
    )


def reviewable_clause(user: Viewer) -> ColumnElement[bool]:
    """The materials ``user`` may review (approve or send back) once submitted: administrators,
    reviewers; a reviewer with a city only their city's."""
    submitted = Material.status.in_(("review", "approved"))
    if user.role == "admin" or (user.role == "reviewer" and user.city_id is None):
        return submitted
    if user.role == "reviewer":
        return and_(submitted, Material.city_id == user.city_id)
    return false()


def material_clause(user: Viewer) -> ColumnElement[bool]:
    """The materials ``user`` may open: their own, those they review, those shared with them."""
    if user.role not in STAFF_ROLES:
        return false()
    if user.role == "admin":
        return true()
    return or_(Material.owner_id == user.id, reviewable_clause(user), _shared_with(user))


def materials_visible_to(user: Viewer) -> Select[Material]:
    return select(Material).where(material_clause(user))

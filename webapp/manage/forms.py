"""The forms of the ``manage`` pages (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

TEST_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (one per class), grouped in a fieldset by the template."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ClassesForm(FlaskForm):
    classes = MultiCheckboxField(_l("Classes"), coerce=int, validate_choice=True)


class TestForm(ClassesForm):
    test_id = StringField(
        _l("Test id"),
        validators=[
            DataRequired(),
            Regexp(TEST_ID, message=_l("Use 2–64 lower-case letters, digits and hyphens.")),
        ],
        description=_l("Used in links, e.g. grade8-spring; cannot be changed later."),
    )
    title_zh = StringField(_l("Title in Chinese"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=200)])
    kind = RadioField(
        _l("Kind of test"),
        choices=[
            SelectChoice(
                "adaptive", _l("Adaptive: the computer chooses units to suit each student")
            ),
            SelectChoice("fixed", _l("Fixed: every student answers the same items in order")),
            SelectChoice(
                "practice",
                _l("Practice: released units only; at the end students see their answers beside "
                   "the key, why each option is right or wrong, and the coding guide's examples"),
            ),
        ],
        default="adaptive",
    )
    items = TextAreaField(
        _l("Items of a fixed or practice test"),
        validators=[Optional(), Length(max=20000)],
        description=_l("Item ids in delivery order, separated by spaces, commas or new lines."),
    )
    access_code = StringField(
        _l("Access code"),
        validators=[
            Optional(),
            Regexp(r"^[A-Za-z0-9-]{6,64}$", message=_l("Use 6–64 letters, digits or hyphens.")),
        ],
        description=_l("Students type it to join; upper and lower case count the same. "
                       "Leave it empty for a generated code that cannot be guessed."),
    )
    attempts = IntegerField(
        _l("Attempts per student"), validators=[Optional(), NumberRange(min=1, max=20)],
        default=1,
    )
    opens_at = DateTimeLocalField(_l("Opens"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField(_l("Closes"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    time_limit = IntegerField(
        _l("Time limit (minutes)"), validators=[Optional(), NumberRange(min=1, max=600)]
    )
    show_score = BooleanField(_l("Show students their score and level at the end"), default=True)


class RosterForm(FlaskForm):
    roster = FileField(_l("Roster file (CSV, UTF-8)"), validators=[FileRequired()])
    passwords = BooleanField(
        _l("Give every student without a password one (printed on the class's login cards)"),
        default=True,
    )


class CardsForm(FlaskForm):
    """Print a class's login cards (this may issue passwords: a POST)."""

    test = SelectField(_l("Test whose access code and address the cards show"), coerce=str,
                       validate_choice=True)
    language = RadioField(
        _l("Language printed first (every card carries both)"),
        choices=[SelectChoice("zh-TW", _l("Chinese")), SelectChoice("en", _l("English"))],
        default="zh-TW",
    )
    new_passwords = BooleanField(
        _l("Give every student a new password (the old ones stop working)"), default=False
    )


class LinkTeacherForm(FlaskForm):
    teacher = SelectField(_l("Teacher"), coerce=int, validate_choice=True)


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: removing a link, forgetting a student."""

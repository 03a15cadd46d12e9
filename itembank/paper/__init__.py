"""Paper forms: booklet designs, printed booklets and teacher materials, paper responses.

See docs/paper-forms.md.
"""

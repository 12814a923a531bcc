"""Bibliography entries labelled as the text cites them: "[Ng and Jordan, 2002]".

sphinxcontrib-bibtex cites in the text in author-year style (``bibtex_reference_style``
in ``_config.yml``) but labels the list with pybtex's label style, "[NJ02]" for the
``alpha`` style. This registers a formatting style, ``author_year``, whose labels are
the author-year text of the citation, so that the list and the text match.
"""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    # "van der Maaten": keep the prelast ("von") part with the last name
    parts = person.rich_prelast_names + person.rich_last_names
    return " ".join(str(p) for p in parts).replace("{", "").replace("}", "")


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_surname(p) for p in people]
            if not names:
                who = entry.fields.get("organization", entry.key)
            elif len(names) == 1:
                who = names[0]
            elif len(names) == 2:
                who = f"{names[0]} and {names[1]}"
            else:
                who = f"{names[0]} et al."
            yield f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(UnsrtStyle):
    default_label_style = "author_year"
    default_sorting_style = "author_year_title"


def setup(app):
    register_plugin("pybtex.style.labels", "author_year", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Form widgets of the compose and edit pages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.datastructures import MultiValueDict

_LOCAL = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{1,2}):(\d{2})")


class DateRowsWidget(forms.Widget):
    """One `<input type=datetime-local>` per date, all named like the field, with add and remove
    buttons (static/publishing/compose.js). The field's value stays one date per line, so a client
    that posts the lines as text (the API's form tests, a script) is read the same way."""

    template_name = "publishing/widgets/date_rows.html"

    def value_from_datadict(
        self, data: Mapping[str, Any], files: MultiValueDict[str, Any], name: str
    ) -> str | None:
        if isinstance(data, MultiValueDict):
            values = data.getlist(name)
        else:
            value = data.get(name)
            values = value if isinstance(value, list) else [value] if value is not None else []
        if not values:
            return None
        return "\n".join(str(value) for value in values if str(value).strip())

    def value_omitted_from_data(self, data: Mapping[str, Any], files: Mapping[str, Any], name: str) -> bool:
        return name not in data

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        rows = []
        for line in str(value or "").splitlines():
            match = _LOCAL.match(line.strip())
            # datetime-local only shows "YYYY-MM-DDTHH:MM"; a line it can't show starts the row empty.
            rows.append(f"{match[1]}T{int(match[2]):02d}:{match[3]}" if match else "")
        context["widget"]["rows"] = rows or [""]
        return context

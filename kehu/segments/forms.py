"""Forms of the segmentation pages. They collect text and parse the rule's JSON; the rule itself
is checked by `kehu.segments.rules` and the thresholds by their service."""

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import WithoutControlCharacters
from kehu.segments.models import SegmentationSettings, SegmentKind
from kehu.segments.rules_fields import CUSTOM_PREFIX, OPERATOR_LABELS, RULE_FIELDS, RuleField

MAX_RULE_LENGTH = 20_000


def parse_rule(text: str) -> dict[str, Any]:
    """The rule posted by the builder, or a ValidationError for JSON that is not an object."""
    if len(text) > MAX_RULE_LENGTH:
        raise forms.ValidationError(_("The rule is too long."))
    try:
        rule = json.loads(text or "{}")
    except json.JSONDecodeError:
        raise forms.ValidationError(_("The rule could not be read.")) from None
    if not isinstance(rule, dict):
        raise forms.ValidationError(_("The rule could not be read."))
    return rule


class SegmentForm(WithoutControlCharacters, forms.Form):
    name = forms.CharField(label=_("Segment name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=SegmentKind.choices,
        initial=SegmentKind.DYNAMIC,
        help_text=_(
            "A dynamic segment follows its rule on every refresh; a static list keeps the "
            "customers who match when it is saved."
        ),
    )
    rule = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, kind_fixed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kind_fixed:
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = _("The kind of a saved segment cannot change.")

    def clean_rule(self) -> dict[str, Any]:
        return parse_rule(self.cleaned_data.get("rule", ""))


class SegmentationSettingsForm(forms.ModelForm):
    class Meta:
        model = SegmentationSettings
        fields = [
            "new_days",
            "active_days",
            "dormant_days",
            "abc_a_share",
            "abc_b_share",
            "vip_min_monetary",
            "vip_min_frequency",
            "new_tier_days",
        ]
        widgets = {
            "abc_a_share": forms.NumberInput(attrs={"min": 0.01, "max": 0.99, "step": 0.01}),
            "abc_b_share": forms.NumberInput(attrs={"min": 0.01, "max": 0.99, "step": 0.01}),
        }


# --- a saved rule in words, for the segment page ----------------------------------------------


def describe_rule(rule: Any) -> list[tuple[int, str]]:
    """The rule as indented lines of words: (depth, text), groups before their conditions."""
    if not isinstance(rule, dict) or not rule:
        return []
    lines: list[tuple[int, str]] = []
    describe_node(rule, 0, lines)
    return lines


def describe_node(node: dict[str, Any], depth: int, lines: list[tuple[int, str]]) -> None:
    if "all" in node or "any" in node:
        kind = "all" if "all" in node else "any"
        lines.append((depth, str(GROUP_WORDS[kind])))
        for child in node[kind] if isinstance(node[kind], list) else []:
            if isinstance(child, dict):
                describe_node(child, depth + 1, lines)
    elif "not" in node and isinstance(node["not"], dict):
        lines.append((depth, str(GROUP_WORDS["not"])))
        describe_node(node["not"], depth + 1, lines)
    else:
        lines.append((depth, describe_condition(node)))


GROUP_WORDS = {
    "all": _("All of these:"),
    "any": _("Any of these:"),
    "not": _("None of these:"),
}


def describe_condition(condition: dict[str, Any]) -> str:
    key = str(condition.get("field", ""))
    rule_field = RULE_FIELDS.get(key)
    label = str(rule_field.label) if rule_field else key.removeprefix(CUSTOM_PREFIX)
    operator = str(condition.get("op", ""))
    words = [label, str(OPERATOR_LABELS.get(operator, operator))]
    if "value" in condition:
        words.append(value_words(rule_field, operator, condition["value"]))
    text = " ".join(word for word in words if word)
    if condition.get("days") is not None:
        text += " " + str(_("(in the last %(days)s days)") % {"days": condition["days"]})
    if condition.get("min_count") not in (None, 1):
        text += " " + str(_("(at least %(count)s times)") % {"count": condition["min_count"]})
    return text


def value_words(rule_field: RuleField | None, operator: str, value: Any) -> str:
    labels = {str(choice): str(label) for choice, label in rule_field.choices} if rule_field else {}
    values = value if isinstance(value, list) else [value]
    separator = " – " if operator == "between" else "、"
    return separator.join(labels.get(str(item), str(item)) for item in values)

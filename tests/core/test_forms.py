"""Widgets come from Django's Jinja2 widget templates; the admin's from its own."""

from __future__ import annotations

from django import forms
from django.template.backends import django as django_backend
from django.template.backends import jinja2 as jinja2_backend

from core.forms import WidgetRenderer


def test_a_widget_template_django_ships_for_jinja2_is_drawn_by_jinja2():
    template = WidgetRenderer().get_template("django/forms/widgets/select.html")
    assert isinstance(template, jinja2_backend.Template)


def test_a_template_only_the_django_engine_has_is_drawn_by_it():
    template = WidgetRenderer().get_template("admin/widgets/clearable_file_input.html")
    assert isinstance(template, django_backend.Template)


def test_a_form_draws_its_widgets_escaped_and_selected_as_before():
    class Choice(forms.Form):
        drink = forms.ChoiceField(choices=[("tea", "Tea & <biscuits>"), ("coffee", "Coffee")])

    html = str(Choice(initial={"drink": "coffee"})["drink"])
    assert '<option value="coffee" selected>Coffee</option>' in html
    assert "Tea &amp; &lt;biscuits&gt;" in html

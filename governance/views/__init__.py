"""Governance pages, one module per part of the framework."""

from accounts.web import chart_figure, get_or_404, role_required
from governance.views.classification import use_case_classify

__all__ = ["chart_figure", "get_or_404", "role_required", "use_case_classify"]

"""Voilà dashboards built with ipywidgets: the only package that imports them."""

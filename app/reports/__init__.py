"""Reports: a view model of pure results -> Jinja2 HTML -> PDF (WeasyPrint), with SVG charts.

- ``view``: ``build_report_view`` works out every label, sentence and chart;
- ``charts``: self-contained SVG (radar, timeline, score bar), also for web pages;
- ``render``: ``render_html``, ``render_pdf`` (nothing fetched beyond the template
  assets) and ``template_version`` for cache keys.

Nothing is imported here, so that using the charts does not load WeasyPrint.
"""

"""Indicators (指标) from operating records: rollups kept current, dashboards, the
printable report and exports."""

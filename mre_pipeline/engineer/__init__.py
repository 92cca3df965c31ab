"""The race engineer: charts (Vega-Lite), the event chart for Dagster, the HTML report and the CLI commands."""

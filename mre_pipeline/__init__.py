"""mre_pipeline: LiveRC catalogue, on-demand event ingestion and lap summaries for My Race Engineer."""

__version__ = "0.1.0"

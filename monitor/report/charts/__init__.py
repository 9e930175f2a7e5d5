"""The report's charts: ``base`` (inputs, saving, credits, shared axes), one module per chart and
``registry``, the one list of them."""

__all__: list[str] = []

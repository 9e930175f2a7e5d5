"""Alert channels: ``base`` (the Message and the Notifier protocol), one module per channel (``log``,
``jsonl``, ``webhook``, ``email``) and ``registry``, the one list of them."""

__all__: list[str] = []

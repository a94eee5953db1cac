"""The error every export form raises for a model it cannot reproduce exactly."""


class NotExportableError(ValueError):
    """The model's computation has no exact equivalent in the requested form."""

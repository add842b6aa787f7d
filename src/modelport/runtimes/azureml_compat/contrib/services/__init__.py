"""``azureml.contrib.services``: ``aml_request`` (``rawhttp``, ``AMLRequest``) and ``aml_response``."""

"""``azureml.core`` as scoring scripts use it: ``from azureml.core import Model``."""

from .model import Model

__all__ = ["Model"]

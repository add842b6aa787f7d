"""``azureml.contrib`` as scoring scripts use it."""

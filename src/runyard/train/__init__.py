"""Training jobs with the SDK v1 names: ``runyard.train.estimator.Estimator`` and
``runyard.train.dnn.TensorFlow`` / ``PyTorch``."""

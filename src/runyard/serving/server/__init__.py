"""The scoring server: the process that runs one service's ``score.py``.

It runs in the service's own environment and imports only the standard library and what
this package and ``runyard.serving.keys`` need, so it starts fast and never conflicts with
the user's packages. ``python -m runyard.serving.server FOLDER`` is started by the
service's supervisor (``runyard.serving.local.supervisor``), which hands it the listening
socket and a pipe to say it is ready on.
"""

"""Web services on a Ray cluster: replicas of the scoring app as a Ray Serve application.

``backend.py`` (the SDK side) talks to the cluster's dashboard over HTTP (Ray Serve's
REST API) and never imports Ray; ``replica.py`` is what runs inside the cluster.
"""

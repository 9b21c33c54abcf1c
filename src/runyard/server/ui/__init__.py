"""The web UI's server side: its built assets (``dist/``, made by ``frontend/``'s build)
served at ``/`` with a page fallback, and the read models its pages ask for
(experiment summaries, the runs table, downsampled metric series) that the routes in
``server/routes/ui_*.py`` answer."""

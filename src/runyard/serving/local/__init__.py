"""Serving on this machine: a detached supervisor per service, on 127.0.0.1."""

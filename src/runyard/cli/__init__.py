"""The ``runyard`` command line (click): one module per noun, rendering in ``output.py``."""

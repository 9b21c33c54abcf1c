"""The node side: everything that runs on the machine that carries a run.

The executor (``python -m runyard.node RUN_ID``) and what it is made of: preparing the run
(snapshot restore, environment, data references and their cache), the script's process and
its log streaming, this node's processes, local concurrency slots, and the liveness sweeper.
Nothing here imports the SDK front (``runyard.core``, ``runyard.train``) or the CLI.
"""

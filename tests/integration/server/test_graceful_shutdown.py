"""SIGTERM while clients write: the server stops taking new requests, answers those in
flight, and every write it acknowledged is in the store afterwards (read back by opening
the workspace directly, with the server gone)."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import httpx

from server_process import start_server


def test_no_acknowledged_write_is_lost_when_the_server_is_stopped_mid_ingest(
    tmp_path: Path,
) -> None:
    from runyard.core import Workspace
    from runyard.tracking import open_tracking_store

    Workspace.create("team", path=tmp_path / "ws").close()
    server = start_server(str(tmp_path / "ws"), log_dir=str(tmp_path))
    api = "/api/v1/workspaces/team"
    with server.client() as client:
        client.post(f"{api}/experiments", json={"name": "e"}).raise_for_status()
        for i in range(4):
            body = {"experiment_name": "e", "run_id": f"e_{i}", "status": "Running"}
            client.post(f"{api}/runs", json=body).raise_for_status()
    acknowledged: dict[str, list[int]] = {f"e_{i}": [] for i in range(4)}
    stop = threading.Event()

    def writer(run_id: str) -> None:
        step = 0
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=10) as http:
            while not stop.is_set():
                points = [[0, float(s), s, 1_700_000_000.0] for s in range(step, step + 10)]
                body = {
                    "series": [{"run_id": run_id, "name": "m", "kind": "scalar"}],
                    "points": points,
                }
                try:
                    answer = http.post(
                        f"{api}/metrics",
                        content=json.dumps(body),
                        headers={"Content-Type": "application/json"},
                    )
                except httpx.HTTPError:
                    return  # the server is going: this batch was never acknowledged
                if answer.status_code == 204:
                    acknowledged[run_id].extend(range(step, step + 10))
                elif answer.status_code >= 500 or answer.status_code == 503:
                    return
                step += 10

    threads = [threading.Thread(target=writer, args=(r,)) for r in acknowledged]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    code = server.stop(signal.SIGTERM)
    stop.set()
    for thread in threads:
        thread.join(15)
    assert code in (0, -signal.SIGTERM), server.log()
    assert sum(len(v) for v in acknowledged.values()) > 40  # it was really under load
    store = open_tracking_store("sqlite:///" + str(tmp_path / "ws" / "runyard.db"))
    try:
        for run_id, steps in acknowledged.items():
            stored = [r.step for r in store.read_metrics(run_id, "m").records]
            missing = set(steps) - set(stored)
            assert not missing, f"{run_id}: {len(missing)} acknowledged points lost"
            assert len(stored) == len(set(stored)), f"{run_id}: duplicates"
    finally:
        store.close()

"""The scoring server's routes, without a socket."""

from __future__ import annotations

import json

import pytest

from runyard.serving.keys import KeyCheck, write_keys_file
from runyard.serving.server.scoring import ScoringApp, load_entry_script, swagger_document


class _Array:
    def tolist(self):
        return [1, 2]


def _run(raw):
    data = json.loads(raw)
    if data == "fail":
        raise ValueError("bad input")
    if data == "array":
        return _Array()
    if data == "object":
        return object()
    return {"echo": data}


@pytest.fixture
def app(tmp_path):
    path = str(tmp_path / "keys.json")
    write_keys_file(path, True, ("the-primary-key-123",))
    return ScoringApp(_run, KeyCheck(path), swagger_document("svc", True))


AUTH = {"authorization": "Bearer the-primary-key-123"}


def test_health_and_swagger_need_no_key(app):
    assert app.respond("GET", "/", {}, b"").body == b"Healthy"
    swagger = json.loads(app.respond("GET", "/swagger.json", {}, b"").body)
    assert "Bearer" in swagger["securityDefinitions"]


def test_score_returns_runs_result_as_json(app):
    response = app.respond("POST", "/score", AUTH, b'{"a": 1}')
    assert (response.status, json.loads(response.body)) == (200, {"echo": {"a": 1}})
    assert json.loads(app.respond("POST", "/score", AUTH, b'"array"').body) == [1, 2]


def test_score_without_the_key_is_401(app):
    assert app.respond("POST", "/score", {}, b"{}").status == 401


def test_a_body_that_is_not_json_is_400(app):
    assert app.respond("POST", "/score", AUTH, b"{nope").status == 400
    assert app.respond("POST", "/score", AUTH, b"\xff\xfe").status == 400


def test_run_raising_is_a_500_with_the_error(app, capsys):
    response = app.respond("POST", "/score", AUTH, b'"fail"')
    assert response.status == 500
    assert "ValueError: bad input" in json.loads(response.body)["error"]
    assert "Traceback" in capsys.readouterr().err


def test_a_result_json_cannot_encode_is_a_500(app):
    response = app.respond("POST", "/score", AUTH, b'"object"')
    assert response.status == 500 and "not JSON-serializable" in response.body.decode()


def test_wrong_methods_and_paths(app):
    assert app.respond("GET", "/score", AUTH, b"").status == 405
    assert app.respond("POST", "/", {}, b"").status == 405
    assert app.respond("GET", "/elsewhere", {}, b"").status == 404


def test_an_entry_script_without_run_is_refused(tmp_path):
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\n")
    with pytest.raises(AttributeError, match="no run"):
        load_entry_script(str(script))


def test_a_json_error_inside_run_that_is_not_about_the_body_is_a_500(tmp_path):
    def run(raw):
        json.loads(raw)
        return json.loads("{broken inside run")

    path = str(tmp_path / "keys.json")
    write_keys_file(path, False, ())
    app = ScoringApp(run, KeyCheck(path), swagger_document("svc", False))
    assert app.respond("POST", "/score", {}, b"{}").status == 500
    assert app.respond("POST", "/score", {}, b"{nope").status == 400

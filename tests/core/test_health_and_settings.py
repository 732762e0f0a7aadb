import os
import subprocess
import sys


def test_healthz_reports_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"


def run_settings(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CUNTAO_")}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "cuntao.settings"
    return subprocess.run([sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY[:4])"],
                          env=clean, capture_output=True, text=True, timeout=60)


def test_missing_secret_key_outside_demo_stops_start_up_with_a_clear_message(tmp_path):
    result = run_settings({"CUNTAO_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "CUNTAO_SECRET_KEY is not set" in result.stderr


def test_demo_makes_and_keeps_its_own_secret_key(tmp_path):
    first = run_settings({"CUNTAO_DATA_DIR": str(tmp_path), "CUNTAO_DEMO": "1"})
    second = run_settings({"CUNTAO_DATA_DIR": str(tmp_path), "CUNTAO_DEMO": "1"})
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert (tmp_path / "secret_key").exists()


def test_given_secret_key_is_used(tmp_path):
    result = run_settings({"CUNTAO_DATA_DIR": str(tmp_path), "CUNTAO_SECRET_KEY": "abcdefgh"})
    assert result.stdout.strip() == "abcd"


def test_cli_without_secret_says_what_to_set_without_a_traceback(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CUNTAO_", "DJANGO_"))}
    clean["CUNTAO_DATA_DIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-m", "cuntao", "migrate"], env=clean, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "CUNTAO_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr

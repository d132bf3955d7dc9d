import json

from services.settings import SCHEMA_VERSION, Settings, load_settings, save_settings, settings_path


def test_round_trip_keeps_every_field():
    s = Settings(language="zh_CN", output_dir="D:/模型 输出", job_concurrency=2, last_panel="jobs",
                 recent={"models": ["C:/a b"]})
    save_settings(s)
    assert load_settings() == s
    doc = json.loads(settings_path().read_text(encoding="utf-8"))
    assert doc["schema_version"] == SCHEMA_VERSION
    assert "模型" in settings_path().read_text(encoding="utf-8")  # stored readable, not escaped


def test_missing_file_gives_defaults():
    assert load_settings() == Settings()


def test_broken_file_gives_defaults_and_keeps_running(caplog):
    settings_path().write_text("{not json", encoding="utf-8")
    assert load_settings() == Settings()
    assert "unreadable" in caplog.text


def test_invalid_fields_fall_back_one_by_one(caplog):
    settings_path().write_text(json.dumps(
        {"schema_version": 1, "language": "fr", "job_concurrency": 0, "output_dir": "X"}), encoding="utf-8")
    s = load_settings()
    assert s.language == "en" and s.job_concurrency == 1
    assert s.output_dir == "X"  # valid fields survive
    assert "language must be one of" in caplog.text


def test_a_bad_theme_and_recent_lists_of_the_wrong_type_are_dropped(caplog):
    for recent, kept in (("abc", {}), ([1, 2], {}), ({"overview": [1, None, "/m/a", {"x": 1}], "datasets": "x"},
                                                   {"overview": ["/m/a"]})):
        settings_path().write_text(json.dumps({"schema_version": 1, "theme": "purple", "recent": recent}),
                                   encoding="utf-8")
        s = load_settings()
        assert s.theme == "system" and s.recent == kept
    assert "theme must be one of" in caplog.text and "recent" in caplog.text


def test_unknown_keys_and_old_schema_are_tolerated():
    settings_path().write_text(json.dumps({"language": "zh_CN", "obsolete": 3}), encoding="utf-8")
    s = load_settings()
    assert s.language == "zh_CN" and s.job_concurrency == 1

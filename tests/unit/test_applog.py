import logging

from services.applog import RamHandler, setup_logging


def test_ram_handler_keeps_recent_and_notifies():
    h = RamHandler(capacity=3)
    seen = []
    h.add_listener(lambda line, level: seen.append((line, level)))
    logger = logging.getLogger("quantdesk.test.ram")
    logger.addHandler(h)
    try:
        for i in range(5):
            logger.warning("line %d", i)
    finally:
        logger.removeHandler(h)
    assert [r.split(": ", 1)[1] for r in h.recent()] == ["line 2", "line 3", "line 4"]
    assert len(seen) == 5 and seen[0][1] == logging.WARNING


def test_a_broken_listener_does_not_break_logging():
    h = RamHandler()
    h.add_listener(lambda *_: 1 / 0)
    h.emit(logging.makeLogRecord({"msg": "still here", "levelno": logging.INFO, "levelname": "INFO"}))
    assert h.recent()[-1].endswith("still here")


def test_setup_logging_writes_to_the_log_dir(tmp_path):
    path = setup_logging(tmp_path / "logs")
    logging.getLogger("quantdesk.test").info("written to file 中文")
    for h in logging.getLogger("quantdesk").handlers:
        h.flush()
    assert "written to file 中文" in path.read_text(encoding="utf-8")

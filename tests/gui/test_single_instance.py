"""One window per user: a second launch raises the first and exits; a crashed first does not block."""
import socket
import sys

import pytest
from PySide6.QtCore import QDir

from app.singleinstance import SingleInstance, server_name


@pytest.fixture
def instances():
    made = []

    def make(data_dir):
        inst = SingleInstance(data_dir)
        made.append(inst)
        return inst

    yield make
    for inst in made:
        inst.release()


def test_a_second_instance_raises_the_first(qtbot, instances, tmp_path):
    home = tmp_path / "用户 数据"
    first = instances(home)
    assert first.claim()
    second = instances(home)
    with qtbot.waitSignal(first.raiseRequested, timeout=5000):
        assert not second.claim(wait_s=1)


def test_another_data_dir_is_another_instance(instances, tmp_path):
    assert instances(tmp_path / "a").claim()
    assert instances(tmp_path / "b").claim()
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert server_name(tmp_path / "a").isascii()


def test_a_released_instance_lets_the_next_one_run(instances, tmp_path):
    first = instances(tmp_path)
    assert first.claim()
    first.release()
    assert instances(tmp_path).claim()


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes leave no socket file behind")
def test_a_stale_socket_of_a_crashed_instance_is_removed(instances, tmp_path):
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(QDir.tempPath() + "/" + server_name(tmp_path)))  # bound, never listening: a dead server
    stale.close()
    first = instances(tmp_path)
    assert first.claim()
    assert first.server.isListening()
    second = instances(tmp_path)
    assert not second.claim(wait_s=1)

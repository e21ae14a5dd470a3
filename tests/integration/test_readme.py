"""The configurations the README shows are real: every ```ini block in
README.md passes `agent-init check-config` (exit 0)."""
import os
import re

import pytest

from suputil import agent

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def ini_blocks():
    with open(README) as f:
        text = f.read()
    return re.findall(r"```ini\n(.*?)```", text, re.S)


def test_the_readme_has_ini_examples():
    assert ini_blocks(), "no ```ini block in README.md"


@pytest.mark.parametrize("i", range(len(ini_blocks())))
def test_readme_ini_block_passes_check_config(tmp_path, i):
    path = tmp_path / ("readme%d.ini" % i)
    path.write_text(ini_blocks()[i])
    p = agent(["check-config", str(path)])
    assert p.returncode == 0, (p.stderr, ini_blocks()[i])

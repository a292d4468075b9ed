import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_is_documented_in_env_example():
    settings = (ROOT / "evently" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:bool|int|list|rate)\(\s*"([A-Z_]+)"', settings))
    read |= set(re.findall(r'os\.environ\.get\(\s*"([A-Z_]+)"', settings))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "no variables found"
    assert read - documented == set()

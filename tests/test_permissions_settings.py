import pytest

from provisioner.permissions import parse_permissions
from provisioner.identification import normalize_filename
from provisioner.settings import Settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("internal", "internal"),
        ("Nacional; celular", "national,mobile"),
        ("internacional|LOCAL,interno", "internal,local,international"),
        ("móvil", "mobile"),
        ("", "internal"),
    ],
)
def test_permissions_are_canonical(text: str, expected: str) -> None:
    assert parse_permissions(text) == expected


def test_unknown_permission_is_named() -> None:
    with pytest.raises(ValueError, match="'satelital'"):
        parse_permissions("nacional;satelital")


def test_settings_from_environment_and_option66() -> None:
    settings = Settings.from_env({"PROVISIONER_HTTP_PORT": "8081", "PROVISIONER_TFTP_PORT": "69",
                                  "PROVISIONER_PUBLIC_URL": "http://prov.example.net/"})
    assert settings.http_port == 8081 and settings.gil_switch_ms == 0.5
    assert Settings.from_env({"PROVISIONER_GIL_SWITCH_MS": "2"}).gil_switch_ms == 2.0
    assert settings.option66_http("KEY") == "http://prov.example.net/prov/KEY/"
    assert settings.option66_tftp("KEY") == "tftp://prov.example.net/KEY/"
    assert Settings(host="127.0.0.2", http_port=8080, tftp_port=6969).option66_tftp("K") == "tftp://127.0.0.2:6969/K/"


@pytest.mark.parametrize(
    ("requested", "normalized"),
    [("/Grandstream/CFG000B82AABBCC.xml", "cfg000b82aabbcc.xml"), ("0004F2AABBCC-user.cfg", "0004f2aabbcc-user.cfg"),
     ("y000000000034.cfg", "y000000000034.cfg")],
)
def test_filenames_are_normalized_for_vendors(requested: str, normalized: str) -> None:
    assert normalize_filename(requested) == normalized


def test_urgency_table_overrides_are_validated() -> None:
    table = Settings(finding_urgency="firmware_unknown=medium, unreachable=low").urgency_table()
    assert table["firmware_unknown"] == "medium" and table["unreachable"] == "low" and table["firmware_older"] == "medium"
    with pytest.raises(ValueError, match="firmware_oldr=high"):
        Settings(finding_urgency="firmware_oldr=high").urgency_table()
    with pytest.raises(ValueError, match="urgent"):
        Settings(finding_urgency="unreachable=urgent").urgency_table()

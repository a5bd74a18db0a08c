"""Files phones write back (provisioner.uploads, pure): which names, what an override file
may say, how often, and how a log is shown. Tables of real names and hostile ones."""

from __future__ import annotations

import pytest

from provisioner.uploads import HOUR, UploadBudget, readable_text, redirecting_parameter, upload_name
from provisioner.values import UploadKind
from provisioner.vendors import VENDORS

MAC = "0004f2a1b2c3"


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        (f"{MAC}-app.log", ("polycom", UploadKind.APP_LOG, MAC)),
        (f"{MAC}-boot.log", ("polycom", UploadKind.BOOT_LOG, MAC)),  # the Updater's [ORYK]
        (f"{MAC}-phone.cfg", ("polycom", UploadKind.OVERRIDE, MAC)),
        (f"/{MAC.upper()}-phone.cfg", ("polycom", UploadKind.OVERRIDE, MAC)),  # one leading '/', any case
        ("000000000000-phone.cfg", None),  # "every phone" is no phone
        (f"{MAC}-web.cfg", None),
        (f"{MAC}-user.cfg", None),  # a file we serve is never written by a phone
        (f"{MAC}.cfg", None),
        (f"cfg{MAC}.xml", None),
        (f"grandstream/{MAC}-phone.cfg", None),  # no folders
        (f"../{MAC}-phone.cfg", None),
        (f"a/../{MAC}-phone.cfg", None),
        (f"..\\{MAC}-phone.cfg", None),
        (f"{MAC}-phone.cfg\x00.txt", None),
        (f"{MAC}-phone.cfg.bak", None),
        (f"x{MAC}-phone.cfg", None),
        ("", None),
    ],
)
def test_upload_names(filename: str, expected: tuple[str, UploadKind, str] | None) -> None:
    found = upload_name(filename, VENDORS.values())
    assert (None if found is None else (found.vendor, found.kind, found.mac)) == expected


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        (b'<PHONE_CONFIG><OVERRIDES up.backlight.idleIntensity="1" dir.local.contacts.1.contact="2001"/></PHONE_CONFIG>', None),
        (b'<OVERRIDES np.normal.ringing.calls.tonePattern="ringer7" reg.1.displayName="Ana"/>', None),
        (b'<OVERRIDES device.prov.serverName="evil.example"/>', "device.prov.serverName"),
        (b'<OVERRIDES\n  device.dhcp.bootSrvUseOpt="0"/>', "device.dhcp.bootSrvUseOpt"),
        (b'<OVERRIDES reg.2.server.1.address="sip.evil"/>', "reg.2.server.1.address"),
        (b'<OVERRIDES reg.1.outboundProxy.address="sip.evil"/>', "reg.1.outboundProxy.address"),
        (b'<OVERRIDES voIpProt.server.1.address="sip.evil"/>', "voIpProt.server.1.address"),
        (b'<OVERRIDES voIpProt.SIP.outboundProxy.address="sip.evil"/>', "voIpProt.SIP.outboundProxy.address"),
        (b'<APPLICATION APP_FILE_PATH="http://evil/sip.ld"/>', "APP_FILE_PATH"),
        (b"<OVERRIDES prov.polling.enabled = '0'/>", "prov.polling.enabled"),
        (b'<OVERRIDES upgrade.custom.server.url="http://evil"/>', "upgrade.custom.server.url"),
        # Written right after a quote (not well-formed XML, but a lenient parser might take it): refused too.
        (b'<OVERRIDES x.note="1"device.prov.serverName="evil"/>', "device.prov.serverName"),
        (b'<OVERRIDES x.note="device.prov is set by the server"/>', None),  # words in a value are no parameter
    ],
)
def test_an_override_file_may_not_move_the_phone(body: bytes, parameter: str | None) -> None:
    assert redirecting_parameter(body) == parameter


def test_logs_are_shown_as_text_without_control_characters() -> None:
    shown = readable_text(b"0101|so |4|00|ok\r\nbad \xff byte \x1b[31m red\x00\tend\n")
    assert shown == "0101|so |4|00|ok\nbad \ufffd byte \ufffd[31m red\ufffd\tend\n"


def test_the_budget_is_a_sliding_hour_per_phone_and_kind() -> None:
    budget = UploadBudget(per_hour=2)
    assert [budget.allow(1, UploadKind.APP_LOG, t) for t in (0, 10, 20)] == [True, True, False]
    assert budget.allow(1, UploadKind.BOOT_LOG, 20) and budget.allow(2, UploadKind.APP_LOG, 20)  # others untouched
    assert not budget.allow(1, UploadKind.APP_LOG, HOUR - 1)
    assert budget.allow(1, UploadKind.APP_LOG, HOUR)  # the first one left the window
    assert not UploadBudget(per_hour=0).allow(1, UploadKind.OVERRIDE, 0)

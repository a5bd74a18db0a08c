"""Polycom wire samples, kept beside the parsers (what each field means: UaSample and SnmpSample
in provisioner/vendors/vendor.py); the tests run every registered vendor's samples as tables."""

from __future__ import annotations

from provisioner.snmp.reading import SYS_DESCR, SYS_OBJECT_ID
from provisioner.values import Role
from provisioner.vendors.polycom.files import NAME as P
from provisioner.vendors.vendor import SnmpSample, UaSample, identified

IP331_UA = "FileTransport PolycomSoundPointIP-SPIP_331-UA/4.0.13.1445"
VVX600_UA = "FileTransport PolycomVVX-VVX_600-UA/5.8.1.7278"

# -- real samples quoted in phones.md --------------------------------------------------------------
REAL: tuple[UaSample, ...] = (
    # Old UCS without a Type/ token: the version is trusted only for application-phase files.
    UaSample("FileTransport PolycomSoundPointIP-SPIP_550-UA/3.2.3.1734", "0004f2e0a550-user.cfg",
             identified(Role.DEVICE, P, "SPIP_550", "polycom-ip550", "3.2.3.1734", "0004f2e0a550"), "[WZ-PC]"),
    UaSample("FileTransport PolycomSoundPointIP-SPIP_550-UA/3.2.3.1734", "0004f2e0a550.cfg",
             identified(Role.MASTER, P, "SPIP_550", "polycom-ip550", None, "0004f2e0a550", reported="3.2.3.1734"), "[WZ-PC]"),
    UaSample("FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application", "64167f0a0400.cfg",
             identified(Role.MASTER, P, "VVX_400", None, "4.1.4.7430", "64167f0a0400"), "[WZ-PC]"),
    UaSample("FileTransport PolycomSoundStationIP-SSIP_6000-UA/5.0.3.1667 Type/Updater", "000000000000.cfg",
             identified(Role.MASTER, P, "SSIP_6000", None, None, None, reported="5.0.3.1667"), "[WZ-PC] (family token as wazo's test)"),
    UaSample("FileTransport PolycomSoundPointIP-SPIP_335-UA/4.0.13.1445 (SN:0004f249d83f) Type/Application",
             "0004f249d83f-user.cfg", identified(Role.DEVICE, P, "SPIP_335", None, "4.0.13.1445", "0004f249d83f"), "[UA-SN]"),
    UaSample("FileTransport PolycomSoundPointIP-SPIP_335-UA/4.0.13.1445 (SN:0004f249d83f) Type/Application",
             "common.cfg", identified(Role.COMMON, P, "SPIP_335", None, "4.0.13.1445", "0004f249d83f"), "[UA-SN]"),
    # VVX 500 trace: the Updater's 5.9.7.47435 is the boot loader's, the application is 5.9.7.4477.
    UaSample("FileTransport PolycomVVX-VVX_500-UA/5.9.7.47435 Type/Updater", "0004f282e824-boot.log",
             identified(Role.OTHER, P, "VVX_500", None, None, "0004f282e824", reported="5.9.7.47435"), "[ORYK]"),
    UaSample("FileTransport PolycomVVX-VVX_500-UA/5.9.7.47435 Type/Updater", "0004f282e824.cfg",
             identified(Role.MASTER, P, "VVX_500", None, None, "0004f282e824", reported="5.9.7.47435"), "[ORYK]"),
    UaSample("FileTransport PolycomVVX-VVX_500-UA/5.9.7.47435 Type/Updater", "/3111-44500-001.3111-44500-001.sip.ld",
             identified(Role.FIRMWARE, P, "VVX_500", None, None, None, reported="5.9.7.47435"), "[ORYK]"),
    UaSample("FileTransport PolycomVVX-VVX_500-UA/5.9.7.4477 Type/Application", "0004f282e824-phone.cfg",
             identified(Role.OTHER, P, "VVX_500", None, "5.9.7.4477", "0004f282e824"), "[ORYK]"),
    UaSample("FileTransport PolycomVVX-VVX_500-UA/5.9.7.4477 Type/Application", "000000000000-directory.xml",
             identified(Role.OTHER, P, "VVX_500", None, "5.9.7.4477", None), "[ORYK]"),
)

# -- realistic samples for each homologated model -----------------------------------------------------
REALISTIC: tuple[UaSample, ...] = (
    # SoundPoint IP 331: SN: token on UCS 4.0.13 [UA-SN]; Updater, Application and no Type/ at all.
    UaSample(f"{IP331_UA} (SN:0004f2aabbcc) Type/Application", "0004f2aabbcc-user.cfg",
             identified(Role.DEVICE, P, "SPIP_331", "polycom-ip331", "4.0.13.1445", "0004f2aabbcc"), "pattern [UA-SN]"),
    UaSample(f"{IP331_UA} (SN:0004f2aabbcc) Type/Updater", "0004f2aabbcc.cfg",
             identified(Role.MASTER, P, "SPIP_331", "polycom-ip331", None, "0004f2aabbcc", reported="4.0.13.1445"), "pattern [UA-SN]"),
    UaSample(f"{IP331_UA} (SN:0004f2aabbcc) Type/Updater", "2345-12365-001.sip.ld",
             identified(Role.FIRMWARE, P, "SPIP_331", "polycom-ip331", None, "0004f2aabbcc", reported="4.0.13.1445"), "pattern [UA-SN]"),
    UaSample(IP331_UA, "0004f2aabbcc.cfg",
             identified(Role.MASTER, P, "SPIP_331", "polycom-ip331", None, "0004f2aabbcc", reported="4.0.13.1445"), "pattern [WZ-PC]"),
    UaSample(IP331_UA, "000000000000.cfg",
             identified(Role.MASTER, P, "SPIP_331", "polycom-ip331", None, None, reported="4.0.13.1445"), "pattern [WZ-PC]"),
    UaSample(IP331_UA, "2345-12365-001.sip.ld",
             identified(Role.FIRMWARE, P, "SPIP_331", "polycom-ip331", None, None, reported="4.0.13.1445"), "pattern [WZ-PC]"),
    UaSample(IP331_UA, "common.cfg", identified(Role.COMMON, P, "SPIP_331", "polycom-ip331", "4.0.13.1445", None), "pattern [WZ-PC]"),
    UaSample(IP331_UA, "0004f2aabbcc-app.log",
             identified(Role.OTHER, P, "SPIP_331", "polycom-ip331", "4.0.13.1445", "0004f2aabbcc"), "pattern [WZ-PC]"),
    UaSample(IP331_UA, "0004f2aabbcc-boot.log",
             identified(Role.OTHER, P, "SPIP_331", "polycom-ip331", None, "0004f2aabbcc", reported="4.0.13.1445"), "pattern [ORYK]"),
    # SoundPoint IP 550: the catalog's 4.0.13.1445 and the newest public 4.0.15.1009 [PPT].
    UaSample("FileTransport PolycomSoundPointIP-SPIP_550-UA/4.0.13.1445 (SN:0004f2bbccdd) Type/Application",
             "0004f2bbccdd-user.cfg", identified(Role.DEVICE, P, "SPIP_550", "polycom-ip550", "4.0.13.1445", "0004f2bbccdd"),
             "pattern [UA-SN]"),
    UaSample("FileTransport PolycomSoundPointIP-SPIP_550-UA/4.0.15.1009 (SN:0004f2bbccdd) Type/Application",
             "0004f2bbccdd-license.cfg", identified(Role.OTHER, P, "SPIP_550", "polycom-ip550", "4.0.15.1009", "0004f2bbccdd"),
             "pattern [UA-SN] [PPT]"),
    UaSample("FileTransport PolycomSoundPointIP-SPIP_550-UA/4.0.15.1009 Type/Updater", "2345-12500-001.sip.ld",
             identified(Role.FIRMWARE, P, "SPIP_550", "polycom-ip550", None, None, reported="4.0.15.1009"), "pattern [WZ-PC]"),
    # VVX 600: no SN: on UCS 5.x [ORYK].
    UaSample(f"{VVX600_UA} Type/Application", "64167fccddee-user.cfg",
             identified(Role.DEVICE, P, "VVX_600", "polycom-vvx600", "5.8.1.7278", "64167fccddee"), "pattern [ORYK]"),
    UaSample(f"{VVX600_UA} Type/Application", "64167fccddee.cfg",
             identified(Role.MASTER, P, "VVX_600", "polycom-vvx600", "5.8.1.7278", "64167fccddee"), "pattern [ORYK]"),
    UaSample(f"{VVX600_UA} Type/Updater", "64167fccddee.cfg",
             identified(Role.MASTER, P, "VVX_600", "polycom-vvx600", None, "64167fccddee", reported="5.8.1.7278"), "pattern [ORYK]"),
    UaSample(f"{VVX600_UA} Type/Updater", "3111-44600-001.sip.ld",
             identified(Role.FIRMWARE, P, "VVX_600", "polycom-vvx600", None, None, reported="5.8.1.7278"), "pattern [ORYK]"),
    UaSample(f"{VVX600_UA} Type/Application", "64167fccddee-calls.xml",
             identified(Role.OTHER, P, "VVX_600", "polycom-vvx600", "5.8.1.7278", "64167fccddee"), "pattern [ORYK]"),
    UaSample(f"{VVX600_UA} Type/Application", "64167fccddee-web.cfg",
             identified(Role.OTHER, P, "VVX_600", "polycom-vvx600", "5.8.1.7278", "64167fccddee"), "pattern [ORYK]"),
    UaSample(f"{VVX600_UA} Type/Application", "000000000000-license.cfg",
             identified(Role.OTHER, P, "VVX_600", "polycom-vvx600", "5.8.1.7278", None), "pattern [ORYK]"),
)

UA_SAMPLES: tuple[UaSample, ...] = REAL + REALISTIC

SNMP_SAMPLES: tuple[SnmpSample, ...] = (
    SnmpSample(
        "polycom VVX 600 with UCS version",
        {SYS_DESCR: "Polycom VVX 600 5.8.1.7278", SYS_OBJECT_ID: "1.3.6.1.4.1.2684.1.1"},
        "VVX 600", "5.8.1.7278", None,
        False, "sysObjectID and 'sysDescr is the model' from [OA-2684]; text guessed",
    ),
    SnmpSample(
        "polycom SoundPoint IP 331, model only",
        {SYS_DESCR: "SoundPoint IP 331", SYS_OBJECT_ID: "1.3.6.1.4.1.2684.1.1"},
        "SoundPoint IP 331", None, None,
        False, "[OA-2684] uses sysDescr as the model string; text guessed",
    ),
    SnmpSample(
        "polycom UA token in sysDescr",
        {SYS_DESCR: "PolycomSoundPointIP-SPIP_550-UA/4.0.15.1009"},
        "SPIP_550", "4.0.15.1009", None,
        False, "HTTP UA token [WZ-PC] as a sysDescr guess",
    ),
    SnmpSample(
        "polycom Linux-based VVX: kernel is not firmware",
        {SYS_DESCR: "Linux VVX600 2.6.37.6 #1 PREEMPT armv7l", SYS_OBJECT_ID: "1.3.6.1.4.1.2684.1.1"},
        "VVX600", None, None,
        False, "net-snmp default shape on a VVX (guess)",
    ),
    SnmpSample(
        "polycom answer without sysDescr",
        {SYS_OBJECT_ID: "1.3.6.1.4.1.2684.1.1"},
        None, None, None,
        False, "agent that hides sysDescr (guess)",
    ),
)

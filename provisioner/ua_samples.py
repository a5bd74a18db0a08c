"""Wire samples for identification: User-Agent + file name -> what identify() must answer.

Kept beside the parser (as wazo does) and run as a table by tests/test_identification.py.
`source` is the phones.md source key for samples quoted there verbatim; "pattern [KEY]" marks a
realistic sample built from the documented shape for a homologated model whose real string is
not public (MACs use the vendor's OUI; versions are the homologated ones unless stated).
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.values import Certainty, Identification, Role

CERTAIN, PROBABLE = Certainty.CERTAIN, Certainty.PROBABLE


@dataclass(frozen=True)
class Sample:
    user_agent: str
    filename: str
    expected: Identification
    source: str


def _id(role: Role, vendor: str, model: str, key: str | None, firmware: str | None, mac: str | None,
        certainty: Certainty = CERTAIN, reported: str | None = None) -> Identification:
    return Identification(role, vendor, model, key, firmware, mac, certainty, reported or firmware)


P, G, Y = "polycom", "grandstream", "yealink"
MASTER, COMMON, DEVICE, FIRMWARE, OTHER, UNKNOWN = (
    Role.MASTER, Role.COMMON, Role.DEVICE, Role.FIRMWARE, Role.OTHER, Role.UNKNOWN,
)

# -- real samples quoted in phones.md §2.2, §3.2, §4.2 ------------------------------------------
REAL: tuple[Sample, ...] = (
    # Old UCS without a Type/ token: the version is trusted only for application-phase files.
    Sample("FileTransport PolycomSoundPointIP-SPIP_550-UA/3.2.3.1734", "0004f2e0a550-user.cfg",
           _id(DEVICE, P, "SPIP_550", "polycom-ip550", "3.2.3.1734", "0004f2e0a550"), "[WZ-PC]"),
    Sample("FileTransport PolycomSoundPointIP-SPIP_550-UA/3.2.3.1734", "0004f2e0a550.cfg",
           _id(MASTER, P, "SPIP_550", "polycom-ip550", None, "0004f2e0a550", reported="3.2.3.1734"), "[WZ-PC]"),
    Sample("FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application", "64167f0a0400.cfg",
           _id(MASTER, P, "VVX_400", None, "4.1.4.7430", "64167f0a0400"), "[WZ-PC]"),
    Sample("FileTransport PolycomSoundStationIP-SSIP_6000-UA/5.0.3.1667 Type/Updater", "000000000000.cfg",
           _id(MASTER, P, "SSIP_6000", None, None, None, reported="5.0.3.1667"), "[WZ-PC] (family token as wazo's test)"),
    Sample("FileTransport PolycomSoundPointIP-SPIP_335-UA/4.0.13.1445 (SN:0004f249d83f) Type/Application",
           "0004f249d83f-user.cfg", _id(DEVICE, P, "SPIP_335", None, "4.0.13.1445", "0004f249d83f"), "[UA-SN]"),
    Sample("FileTransport PolycomSoundPointIP-SPIP_335-UA/4.0.13.1445 (SN:0004f249d83f) Type/Application",
           "common.cfg", _id(COMMON, P, "SPIP_335", None, "4.0.13.1445", "0004f249d83f"), "[UA-SN]"),
    # VVX 500 trace: the Updater's 5.9.7.47435 is the boot loader's, the application is 5.9.7.4477.
    Sample("FileTransport PolycomVVX-VVX_500-UA/5.9.7.47435 Type/Updater", "0004f282e824-boot.log",
           _id(OTHER, P, "VVX_500", None, None, "0004f282e824", reported="5.9.7.47435"), "[ORYK]"),
    Sample("FileTransport PolycomVVX-VVX_500-UA/5.9.7.47435 Type/Updater", "0004f282e824.cfg",
           _id(MASTER, P, "VVX_500", None, None, "0004f282e824", reported="5.9.7.47435"), "[ORYK]"),
    Sample("FileTransport PolycomVVX-VVX_500-UA/5.9.7.47435 Type/Updater", "/3111-44500-001.3111-44500-001.sip.ld",
           _id(FIRMWARE, P, "VVX_500", None, None, None, reported="5.9.7.47435"), "[ORYK]"),
    Sample("FileTransport PolycomVVX-VVX_500-UA/5.9.7.4477 Type/Application", "0004f282e824-phone.cfg",
           _id(OTHER, P, "VVX_500", None, "5.9.7.4477", "0004f282e824"), "[ORYK]"),
    Sample("FileTransport PolycomVVX-VVX_500-UA/5.9.7.4477 Type/Application", "000000000000-directory.xml",
           _id(OTHER, P, "VVX_500", None, "5.9.7.4477", None), "[ORYK]"),
    Sample("Grandstream Model HW GXP1628 SW 1.0.4.138 DevId c074ad2bd859", "cfgc074ad2bd859.xml",
           _id(DEVICE, G, "GXP1628", "grandstream-gxp1628", "1.0.4.138", "c074ad2bd859"), "[WZ-GC]"),
    Sample("Grandstream Model HW GXV3240 V1.6B SW 1.0.1.27 DevId 000b82632815", "cfg000b82632815.xml",
           _id(DEVICE, G, "GXV3240", None, "1.0.1.27", "000b82632815"), "[WZ-GC]"),
    Sample("Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872", "cfg000b828aa872",
           _id(DEVICE, G, "GXP2135", None, "1.0.7.97", "000b828aa872"), "[FPX-IDX]"),
    Sample("Yealink SIP-T20P 9.72.0.30 00:15:65:5e:16:7c", "0015655e167c.cfg",
           _id(DEVICE, Y, "T20P", "yealink-t20p", "9.72.0.30", "0015655e167c"), "[WZ-YC]"),
    Sample("Yealink SIP-T21P 34.72.0.1 00:15:65:4c:4c:26", "y000000000034.cfg",
           _id(COMMON, Y, "T21P", "yealink-t21p", "34.72.0.1", "0015654c4c26"), "[WZ-YC]"),
    Sample("Yealink SIP-T19P_E2 53.80.0.3 00:15:65:53:80:03", "y000000000053.cfg",
           _id(COMMON, Y, "T19P_E2", None, "53.80.0.3", "001565538003"), "[WZ-YC] (MAC elided in the source)"),
)

# -- realistic samples for each homologated desk / DECT / video model -----------------------------
IP331_UA = "FileTransport PolycomSoundPointIP-SPIP_331-UA/4.0.13.1445"
VVX600_UA = "FileTransport PolycomVVX-VVX_600-UA/5.8.1.7278"
GXP1620_UA = "Grandstream Model HW GXP1620 SW 1.0.4.106 DevId 000b82aabbcc"

REALISTIC: tuple[Sample, ...] = (
    # SoundPoint IP 331: SN: token on UCS 4.0.13 [UA-SN]; Updater, Application and no Type/ at all.
    Sample(f"{IP331_UA} (SN:0004f2aabbcc) Type/Application", "0004f2aabbcc-user.cfg",
           _id(DEVICE, P, "SPIP_331", "polycom-ip331", "4.0.13.1445", "0004f2aabbcc"), "pattern [UA-SN]"),
    Sample(f"{IP331_UA} (SN:0004f2aabbcc) Type/Updater", "0004f2aabbcc.cfg",
           _id(MASTER, P, "SPIP_331", "polycom-ip331", None, "0004f2aabbcc", reported="4.0.13.1445"), "pattern [UA-SN]"),
    Sample(f"{IP331_UA} (SN:0004f2aabbcc) Type/Updater", "2345-12365-001.sip.ld",
           _id(FIRMWARE, P, "SPIP_331", "polycom-ip331", None, "0004f2aabbcc", reported="4.0.13.1445"), "pattern [UA-SN]"),
    Sample(IP331_UA, "0004f2aabbcc.cfg",
           _id(MASTER, P, "SPIP_331", "polycom-ip331", None, "0004f2aabbcc", reported="4.0.13.1445"), "pattern [WZ-PC]"),
    Sample(IP331_UA, "000000000000.cfg",
           _id(MASTER, P, "SPIP_331", "polycom-ip331", None, None, reported="4.0.13.1445"), "pattern [WZ-PC]"),
    Sample(IP331_UA, "2345-12365-001.sip.ld",
           _id(FIRMWARE, P, "SPIP_331", "polycom-ip331", None, None, reported="4.0.13.1445"), "pattern [WZ-PC]"),
    Sample(IP331_UA, "common.cfg", _id(COMMON, P, "SPIP_331", "polycom-ip331", "4.0.13.1445", None), "pattern [WZ-PC]"),
    Sample(IP331_UA, "0004f2aabbcc-app.log",
           _id(OTHER, P, "SPIP_331", "polycom-ip331", "4.0.13.1445", "0004f2aabbcc"), "pattern [WZ-PC]"),
    Sample(IP331_UA, "0004f2aabbcc-boot.log",
           _id(OTHER, P, "SPIP_331", "polycom-ip331", None, "0004f2aabbcc", reported="4.0.13.1445"), "pattern [ORYK]"),
    # SoundPoint IP 550: the catalog's 5.0.13.0881 (doubtful) and the newest public 4.0.15.1009 [PPT].
    Sample("FileTransport PolycomSoundPointIP-SPIP_550-UA/5.0.13.0881 (SN:0004f2bbccdd) Type/Application",
           "0004f2bbccdd-user.cfg", _id(DEVICE, P, "SPIP_550", "polycom-ip550", "5.0.13.0881", "0004f2bbccdd"),
           "pattern [UA-SN]"),
    Sample("FileTransport PolycomSoundPointIP-SPIP_550-UA/4.0.15.1009 (SN:0004f2bbccdd) Type/Application",
           "0004f2bbccdd-license.cfg", _id(OTHER, P, "SPIP_550", "polycom-ip550", "4.0.15.1009", "0004f2bbccdd"),
           "pattern [UA-SN] [PPT]"),
    Sample("FileTransport PolycomSoundPointIP-SPIP_550-UA/4.0.15.1009 Type/Updater", "2345-12500-001.sip.ld",
           _id(FIRMWARE, P, "SPIP_550", "polycom-ip550", None, None, reported="4.0.15.1009"), "pattern [WZ-PC]"),
    # VVX 600: no SN: on UCS 5.x [ORYK].
    Sample(f"{VVX600_UA} Type/Application", "64167fccddee-user.cfg",
           _id(DEVICE, P, "VVX_600", "polycom-vvx600", "5.8.1.7278", "64167fccddee"), "pattern [ORYK]"),
    Sample(f"{VVX600_UA} Type/Application", "64167fccddee.cfg",
           _id(MASTER, P, "VVX_600", "polycom-vvx600", "5.8.1.7278", "64167fccddee"), "pattern [ORYK]"),
    Sample(f"{VVX600_UA} Type/Updater", "64167fccddee.cfg",
           _id(MASTER, P, "VVX_600", "polycom-vvx600", None, "64167fccddee", reported="5.8.1.7278"), "pattern [ORYK]"),
    Sample(f"{VVX600_UA} Type/Updater", "3111-44600-001.sip.ld",
           _id(FIRMWARE, P, "VVX_600", "polycom-vvx600", None, None, reported="5.8.1.7278"), "pattern [ORYK]"),
    Sample(f"{VVX600_UA} Type/Application", "64167fccddee-calls.xml",
           _id(OTHER, P, "VVX_600", "polycom-vvx600", "5.8.1.7278", "64167fccddee"), "pattern [ORYK]"),
    Sample(f"{VVX600_UA} Type/Application", "64167fccddee-web.cfg",
           _id(OTHER, P, "VVX_600", "polycom-vvx600", "5.8.1.7278", "64167fccddee"), "pattern [ORYK]"),
    Sample(f"{VVX600_UA} Type/Application", "000000000000-license.cfg",
           _id(OTHER, P, "VVX_600", "polycom-vvx600", "5.8.1.7278", None), "pattern [ORYK]"),
    # Grandstream GXP16xx, GXV3275 (hardware revision token), DP750.
    Sample("Grandstream Model HW GXP1610 SW 1.0.4.106 DevId 000b82a1b610", "cfg000b82a1b610.xml",
           _id(DEVICE, G, "GXP1610", "grandstream-gxp1610", "1.0.4.106", "000b82a1b610"), "pattern [WZ-GC]"),
    Sample(GXP1620_UA, "Grandstream/cfg000b82aabbcc.xml",
           _id(DEVICE, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82aabbcc"), "pattern [WZ-GC] [WZ-GINST]"),
    Sample(GXP1620_UA, "cfg000b82aabbcc",
           _id(DEVICE, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82aabbcc"), "pattern [GS-DOC]"),
    Sample(GXP1620_UA, "cfggxp1620.xml",
           _id(COMMON, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82aabbcc"), "pattern [GS-DOC]"),
    Sample(GXP1620_UA, "gxp1600fw.bin",
           _id(FIRMWARE, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82aabbcc"), "pattern [GS-FW]"),
    Sample("Grandstream Model HW GXP1628 SW 1.0.4.106 DevId C074AD001628", "cfg.xml",
           _id(COMMON, G, "GXP1628", "grandstream-gxp1628", "1.0.4.106", "c074ad001628"), "pattern [WZ-GC]"),
    Sample("Grandstream Model HW GXP1630 SW 1.0.4.106 DevId 000b82a1b630", "cfg000b82a1b630.bin",
           _id(DEVICE, G, "GXP1630", "grandstream-gxp1630", "1.0.4.106", "000b82a1b630"), "pattern [GS-DOC]"),
    Sample("Grandstream Model HW GXV3275 V1.2A SW 1.0.3.198 DevId 000b82c3d275", "cfg000b82c3d275.xml",
           _id(DEVICE, G, "GXV3275", "grandstream-gxv3275", "1.0.3.198", "000b82c3d275"), "pattern [WZ-GC]"),
    Sample("Grandstream Model HW DP750 SW 1.0.4.2 DevId 000b82d0d750", "cfg000b82d0d750.xml",
           _id(DEVICE, G, "DP750", "grandstream-dp750", "1.0.4.2", "000b82d0d750"), "pattern [WZ-GC] [FPX-PROV]"),
    Sample("Grandstream Model HW DP750 SW 1.0.4.2 DevId 000b82d0d750", "cfgdp750.xml",
           _id(COMMON, G, "DP750", "grandstream-dp750", "1.0.4.2", "000b82d0d750"), "pattern [GS-DOC]"),
    # Yealink V72/V73: MAC with colons [WZ-YC] or without [FPX-IDX].
    Sample("Yealink SIP-T19P 31.72.0.75 00:15:65:19:19:19", "y000000000031.cfg",
           _id(COMMON, Y, "T19P", "yealink-t19p", "31.72.0.75", "001565191919"), "pattern [WZ-YC]"),
    Sample("Yealink SIP-T19P 31.72.0.75 00:15:65:19:19:19", "001565191919.cfg",
           _id(DEVICE, Y, "T19P", "yealink-t19p", "31.72.0.75", "001565191919"), "pattern [WZ-YC]"),
    Sample("Yealink SIP-T20P 9.73.0.50 001565202020", "y000000000007.cfg",
           _id(COMMON, Y, "T20P", "yealink-t20p", "9.73.0.50", "001565202020"), "pattern [FPX-IDX] [WZ-Y73H]"),
    Sample("Yealink SIP-T20P 9.73.0.50 001565202020", "001565202020.cfg",
           _id(DEVICE, Y, "T20P", "yealink-t20p", "9.73.0.50", "001565202020"), "pattern [FPX-IDX]"),
    Sample("Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cc", "001565aabbcc.cfg",
           _id(DEVICE, Y, "T21P", "yealink-t21p", "34.72.0.75", "001565aabbcc"), "pattern [WZ-YC]"),
    Sample("Yealink SIP-T21P 34.72.0.60 00:15:65:aa:bb:cc", "34.72.0.75.rom",
           _id(FIRMWARE, Y, "T21P", "yealink-t21p", "34.72.0.60", "001565aabbcc"), "pattern [WZ-Y72]"),
    # Not homologated: vendor and model token, no catalog key (-> model_not_homologated).
    Sample("Yealink SIP-T46S 66.85.0.5 80:5e:c0:11:22:33", "805ec0112233.cfg",
           _id(DEVICE, Y, "T46S", None, "66.85.0.5", "805ec0112233"), "pattern [WZ-YC]"),
    # Disagreements lower certainty: the file name's MAC wins over the UA's.
    Sample("Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cc", "001565000001.cfg",
           _id(DEVICE, Y, "T21P", "yealink-t21p", "34.72.0.75", "001565000001", PROBABLE), "pattern [WZ-YC]"),
    Sample("Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cc", "y000000000031.cfg",
           _id(COMMON, Y, "T21P", "yealink-t21p", "34.72.0.75", "001565aabbcc", PROBABLE), "pattern [WZ-YC]"),
    Sample(GXP1620_UA, "cfg000b82000001.xml",
           _id(DEVICE, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82000001", PROBABLE), "pattern [WZ-GC]"),
    # A phone that asks for a name no vendor uses still says who it is; the server answers 404.
    Sample(GXP1620_UA, "phonebook.xml",
           _id(UNKNOWN, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82aabbcc"), "pattern [WZ-GC]"),
)

SAMPLES: tuple[Sample, ...] = REAL + REALISTIC

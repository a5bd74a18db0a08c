"""Grandstream wire samples, kept beside the parsers (what each field means: UaSample and SnmpSample
in provisioner/vendors/vendor.py); the tests run every registered vendor's samples as tables."""

from __future__ import annotations

from provisioner.snmp.reading import SYS_DESCR, SYS_NAME, SYS_OBJECT_ID
from provisioner.values import Certainty, Role
from provisioner.vendors.grandstream.files import NAME as G
from provisioner.vendors.vendor import SnmpSample, UaSample, identified

GXP1620_UA = "Grandstream Model HW GXP1620 SW 1.0.4.106 DevId 000b82aabbcc"

# -- real samples quoted in phones.md --------------------------------------------------------------
REAL: tuple[UaSample, ...] = (
    UaSample("Grandstream Model HW GXP1628 SW 1.0.4.138 DevId c074ad2bd859", "cfgc074ad2bd859.xml",
             identified(Role.DEVICE, G, "GXP1628", "grandstream-gxp1628", "1.0.4.138", "c074ad2bd859"), "[WZ-GC]"),
    UaSample("Grandstream Model HW GXV3240 V1.6B SW 1.0.1.27 DevId 000b82632815", "cfg000b82632815.xml",
             identified(Role.DEVICE, G, "GXV3240", None, "1.0.1.27", "000b82632815"), "[WZ-GC]"),
    UaSample("Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872", "cfg000b828aa872",
             identified(Role.DEVICE, G, "GXP2135", None, "1.0.7.97", "000b828aa872"), "[FPX-IDX]"),
)

# -- realistic samples for each homologated model -----------------------------------------------------
REALISTIC: tuple[UaSample, ...] = (
    # Grandstream GXP16xx, GXV3275 (hardware revision token), DP750.
    UaSample("Grandstream Model HW GXP1610 SW 1.0.4.106 DevId 000b82a1b610", "cfg000b82a1b610.xml",
             identified(Role.DEVICE, G, "GXP1610", "grandstream-gxp1610", "1.0.4.106", "000b82a1b610"), "pattern [WZ-GC]"),
    UaSample(GXP1620_UA, "Grandstream/cfg000b82aabbcc.xml",
             identified(Role.DEVICE, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82aabbcc"), "pattern [WZ-GC] [WZ-GINST]"),
    UaSample(GXP1620_UA, "cfg000b82aabbcc",
             identified(Role.DEVICE, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82aabbcc"), "pattern [GS-DOC]"),
    UaSample(GXP1620_UA, "cfggxp1620.xml",
             identified(Role.COMMON, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82aabbcc"), "pattern [GS-DOC]"),
    UaSample(GXP1620_UA, "gxp1600fw.bin",
             identified(Role.FIRMWARE, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82aabbcc"), "pattern [GS-FW]"),
    UaSample("Grandstream Model HW GXP1628 SW 1.0.4.106 DevId C074AD001628", "cfg.xml",
             identified(Role.COMMON, G, "GXP1628", "grandstream-gxp1628", "1.0.4.106", "c074ad001628"), "pattern [WZ-GC]"),
    UaSample("Grandstream Model HW GXP1630 SW 1.0.4.106 DevId 000b82a1b630", "cfg000b82a1b630.bin",
             identified(Role.DEVICE, G, "GXP1630", "grandstream-gxp1630", "1.0.4.106", "000b82a1b630"), "pattern [GS-DOC]"),
    UaSample("Grandstream Model HW GXV3275 V1.2A SW 1.0.3.198 DevId 000b82c3d275", "cfg000b82c3d275.xml",
             identified(Role.DEVICE, G, "GXV3275", "grandstream-gxv3275", "1.0.3.198", "000b82c3d275"), "pattern [WZ-GC]"),
    UaSample("Grandstream Model HW DP750 SW 1.0.4.2 DevId 000b82d0d750", "cfg000b82d0d750.xml",
             identified(Role.DEVICE, G, "DP750", "grandstream-dp750", "1.0.4.2", "000b82d0d750"), "pattern [WZ-GC] [FPX-PROV]"),
    UaSample("Grandstream Model HW DP750 SW 1.0.4.2 DevId 000b82d0d750", "cfgdp750.xml",
             identified(Role.COMMON, G, "DP750", "grandstream-dp750", "1.0.4.2", "000b82d0d750"), "pattern [GS-DOC]"),
    # Disagreements lower certainty: the file name's MAC wins over the UA's.
    UaSample(GXP1620_UA, "cfg000b82000001.xml",
             identified(Role.DEVICE, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82000001", Certainty.PROBABLE), "pattern [WZ-GC]"),
    # A phone that asks for a name no vendor uses still says who it is; the server answers 404.
    UaSample(GXP1620_UA, "phonebook.xml",
             identified(Role.UNKNOWN, G, "GXP1620", "grandstream-gxp1620", "1.0.4.106", "000b82aabbcc"), "pattern [WZ-GC]"),
)

UA_SAMPLES: tuple[UaSample, ...] = REAL + REALISTIC

SNMP_SAMPLES: tuple[SnmpSample, ...] = (
    SnmpSample(
        "grandstream GXW4216 gateway (real capture)",
        {SYS_DESCR: "Linux GXW4200 2.6.28.8 #183 Fri Dec 20 20:34:02 CST 2019 mips",
         SYS_OBJECT_ID: "1.3.6.1.4.1.8072.3.2.10", SYS_NAME: "GXW4200"},
        "GXW4200", None, None,
        True, "fusioninventory-agent issue 854 [FI-854]: host name is the family, 2.6.28.8 is the kernel",
    ),
    SnmpSample(
        "grandstream GXP1620 in the same net-snmp shape",
        {SYS_DESCR: "Linux GXP1620 3.4.20 #1 PREEMPT Mon Jun 5 14:31:07 CST 2017 armv7l",
         SYS_OBJECT_ID: "1.3.6.1.4.1.8072.3.2.10"},
        "GXP1620", None, None,
        False, "[FI-854] shape with a GXP host name (guess)",
    ),
    SnmpSample(
        "grandstream multi-line sysDescr, model only in sysName",
        {SYS_DESCR: "Linux\ngxp 3.4.20\n#1 armv7l", SYS_NAME: "GXP1628"},
        "GXP1628", None, None,
        False, "sysName defaulting to the model (guess); multi-line sysDescr as some agents send",
    ),
    SnmpSample(
        "grandstream UA-like sysDescr",
        {SYS_DESCR: "Grandstream Model HW GXP1610 SW 1.0.4.106"},
        "GXP1610", "1.0.4.106", None,
        False, "HTTP UA shape 'Grandstream Model HW GXP1610 SW 1.0.4.106' [WZ-GC] as a sysDescr guess",
    ),
)

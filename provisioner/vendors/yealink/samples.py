"""Yealink wire samples, kept beside the parsers (what each field means: UaSample and SnmpSample
in provisioner/vendors/vendor.py); the tests run every registered vendor's samples as tables."""

from __future__ import annotations

from provisioner.snmp.reading import SYS_DESCR
from provisioner.values import Certainty, Role
from provisioner.vendors.vendor import SnmpSample, UaSample, identified
from provisioner.vendors.yealink.files import NAME as Y
from provisioner.vendors.yealink.snmp import YEALINK_FIRMWARE, YEALINK_MAC, YEALINK_MODEL

# -- real samples quoted in phones.md --------------------------------------------------------------
REAL: tuple[UaSample, ...] = (
    UaSample("Yealink SIP-T20P 9.72.0.30 00:15:65:5e:16:7c", "0015655e167c.cfg",
             identified(Role.DEVICE, Y, "T20P", "yealink-t20p", "9.72.0.30", "0015655e167c"), "[WZ-YC]"),
    UaSample("Yealink SIP-T21P 34.72.0.1 00:15:65:4c:4c:26", "y000000000034.cfg",
             identified(Role.COMMON, Y, "T21P", "yealink-t21p", "34.72.0.1", "0015654c4c26"), "[WZ-YC]"),
    UaSample("Yealink SIP-T19P_E2 53.80.0.3 00:15:65:53:80:03", "y000000000053.cfg",
             identified(Role.COMMON, Y, "T19P_E2", None, "53.80.0.3", "001565538003"), "[WZ-YC] (MAC elided in the source)"),
)

# -- realistic samples for each homologated model -----------------------------------------------------
REALISTIC: tuple[UaSample, ...] = (
    # Yealink V72/V73: MAC with colons [WZ-YC] or without [FPX-IDX].
    UaSample("Yealink SIP-T19P 31.72.0.75 00:15:65:19:19:19", "y000000000031.cfg",
             identified(Role.COMMON, Y, "T19P", "yealink-t19p", "31.72.0.75", "001565191919"), "pattern [WZ-YC]"),
    UaSample("Yealink SIP-T19P 31.72.0.75 00:15:65:19:19:19", "001565191919.cfg",
             identified(Role.DEVICE, Y, "T19P", "yealink-t19p", "31.72.0.75", "001565191919"), "pattern [WZ-YC]"),
    UaSample("Yealink SIP-T20P 9.73.0.50 001565202020", "y000000000007.cfg",
             identified(Role.COMMON, Y, "T20P", "yealink-t20p", "9.73.0.50", "001565202020"), "pattern [FPX-IDX] [WZ-Y73H]"),
    UaSample("Yealink SIP-T20P 9.73.0.50 001565202020", "001565202020.cfg",
             identified(Role.DEVICE, Y, "T20P", "yealink-t20p", "9.73.0.50", "001565202020"), "pattern [FPX-IDX]"),
    UaSample("Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cc", "001565aabbcc.cfg",
             identified(Role.DEVICE, Y, "T21P", "yealink-t21p", "34.72.0.75", "001565aabbcc"), "pattern [WZ-YC]"),
    UaSample("Yealink SIP-T21P 34.72.0.60 00:15:65:aa:bb:cc", "34.72.0.75.rom",
             identified(Role.FIRMWARE, Y, "T21P", "yealink-t21p", "34.72.0.60", "001565aabbcc"), "pattern [WZ-Y72]"),
    # Not homologated: vendor and model token, no catalog key (-> model_not_homologated).
    UaSample("Yealink SIP-T46S 66.85.0.5 80:5e:c0:11:22:33", "805ec0112233.cfg",
             identified(Role.DEVICE, Y, "T46S", None, "66.85.0.5", "805ec0112233"), "pattern [WZ-YC]"),
    # Disagreements lower certainty: the file name's MAC wins over the UA's.
    UaSample("Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cc", "001565000001.cfg",
             identified(Role.DEVICE, Y, "T21P", "yealink-t21p", "34.72.0.75", "001565000001", Certainty.PROBABLE), "pattern [WZ-YC]"),
    UaSample("Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cc", "y000000000031.cfg",
             identified(Role.COMMON, Y, "T21P", "yealink-t21p", "34.72.0.75", "001565aabbcc", Certainty.PROBABLE), "pattern [WZ-YC]"),
)

UA_SAMPLES: tuple[UaSample, ...] = REAL + REALISTIC

SNMP_SAMPLES: tuple[SnmpSample, ...] = (
    SnmpSample(
        "yealink private table, T21P",
        {SYS_DESCR: "Yealink SIP-T21P", YEALINK_FIRMWARE: "34.72.0.75",
         YEALINK_MODEL: "SIP-T21P", YEALINK_MAC: "00:15:65:4c:4c:26"},
        "SIP-T21P", "34.72.0.75", "0015654c4c26",
        False, "OID table [SNMP-YL]; value shapes guessed from the HTTP UA [WZ-YC]",
    ),
    SnmpSample(
        "yealink private table wins over sysDescr",
        {SYS_DESCR: "Yealink SIP-T20P 9.72.0.30", YEALINK_FIRMWARE: "9.73.0.50",
         YEALINK_MODEL: "T20P", YEALINK_MAC: "001565A1B2C3"},
        "T20P", "9.73.0.50", "001565a1b2c3",
        False, "an upgrade seen by the private OID before sysDescr changes (guess)",
    ),
    SnmpSample(
        "yealink model with vendor word, MAC as raw octets",
        {YEALINK_FIRMWARE: "V31.72.0.75", YEALINK_MODEL: "Yealink SIP-T19P", YEALINK_MAC: "0x001565aabbcc"},
        "SIP-T19P", "31.72.0.75", "001565aabbcc",
        False, "client renders non-printable OCTET STRINGs as 0x<hex>; 'V' prefix guessed",
    ),
    SnmpSample(
        "yealink without the private table: sysDescr in the UA's shape",
        {SYS_DESCR: "Yealink SIP-T21P 34.72.0.75 00:15:65:4c:4c:26"},
        "SIP-T21P", "34.72.0.75", None,
        False, "UA shape 'Yealink SIP-T21P 34.72.0.1 <mac>' [WZ-YC] reused as a sysDescr guess",
    ),
    SnmpSample(
        "yealink net-snmp Linux sysDescr: kernel is not firmware",
        {SYS_DESCR: "Linux T21P 2.6.33.2 #1 Fri Mar 1 10:00:00 CST 2019 armv5tejl"},
        "T21P", None, None,
        False, "net-snmp default shape [FI-854] applied to a Yealink (guess)",
    ),
    SnmpSample(
        "yealink empty and zero values",
        {SYS_DESCR: "", YEALINK_FIRMWARE: "", YEALINK_MODEL: " ", YEALINK_MAC: "00:00:00:00:00:00"},
        None, None, None,
        False, "an agent with the table present but unset (guess)",
    ),
)

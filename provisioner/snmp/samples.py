"""SNMP answers kept beside the parser, with what parse_reading must make of them.

tests/test_snmp_parse.py runs every row. `real` says whether the sysDescr shape was seen in a
public capture; every other row is a GUESS at a shape (no public sysDescr exists for any
homologated model, phones.md §7) and must be replaced by a lab capture per model:
`snmpget -v2c -c <community> -On <phone> 1.3.6.1.2.1.1.1.0 1.3.6.1.2.1.1.2.0 1.3.6.1.2.1.1.5.0
1.3.6.1.2.1.37459.2.1.5.0 1.3.6.1.2.1.37459.2.1.7.0 1.3.6.1.2.1.37459.2.1.8.0`.
Firmware values are the homologated ones (service-model.md §9); MACs use the vendors' OUIs.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.snmp.parse import (
    SYS_DESCR,
    SYS_NAME,
    SYS_OBJECT_ID,
    YEALINK_FIRMWARE,
    YEALINK_MAC,
    YEALINK_MODEL,
)


@dataclass(frozen=True)
class Sample:
    name: str
    vendor: str
    varbinds: dict[str, str]
    model: str | None
    firmware: str | None
    mac: str | None
    real: bool
    source: str


SAMPLES: tuple[Sample, ...] = (
    # ---------------------------------------------------------------------------- Yealink
    Sample(
        "yealink private table, T21P", "yealink",
        {SYS_DESCR: "Yealink SIP-T21P", YEALINK_FIRMWARE: "34.72.0.75",
         YEALINK_MODEL: "SIP-T21P", YEALINK_MAC: "00:15:65:4c:4c:26"},
        "SIP-T21P", "34.72.0.75", "0015654c4c26",
        False, "OID table [SNMP-YL]; value shapes guessed from the HTTP UA [WZ-YC]",
    ),
    Sample(
        "yealink private table wins over sysDescr", "yealink",
        {SYS_DESCR: "Yealink SIP-T20P 9.72.0.30", YEALINK_FIRMWARE: "9.73.0.50",
         YEALINK_MODEL: "T20P", YEALINK_MAC: "001565A1B2C3"},
        "T20P", "9.73.0.50", "001565a1b2c3",
        False, "an upgrade seen by the private OID before sysDescr changes (guess)",
    ),
    Sample(
        "yealink model with vendor word, MAC as raw octets", "yealink",
        {YEALINK_FIRMWARE: "V31.72.0.75", YEALINK_MODEL: "Yealink SIP-T19P", YEALINK_MAC: "0x001565aabbcc"},
        "SIP-T19P", "31.72.0.75", "001565aabbcc",
        False, "client renders non-printable OCTET STRINGs as 0x<hex>; 'V' prefix guessed",
    ),
    Sample(
        "yealink without the private table: sysDescr in the UA's shape", "yealink",
        {SYS_DESCR: "Yealink SIP-T21P 34.72.0.75 00:15:65:4c:4c:26"},
        "SIP-T21P", "34.72.0.75", None,
        False, "UA shape 'Yealink SIP-T21P 34.72.0.1 <mac>' [WZ-YC] reused as a sysDescr guess",
    ),
    Sample(
        "yealink net-snmp Linux sysDescr: kernel is not firmware", "yealink",
        {SYS_DESCR: "Linux T21P 2.6.33.2 #1 Fri Mar 1 10:00:00 CST 2019 armv5tejl"},
        "T21P", None, None,
        False, "net-snmp default shape [FI-854] applied to a Yealink (guess)",
    ),
    Sample(
        "yealink empty and zero values", "yealink",
        {SYS_DESCR: "", YEALINK_FIRMWARE: "", YEALINK_MODEL: " ", YEALINK_MAC: "00:00:00:00:00:00"},
        None, None, None,
        False, "an agent with the table present but unset (guess)",
    ),
    # ------------------------------------------------------------------------ Grandstream
    Sample(
        "grandstream GXW4216 gateway (real capture)", "grandstream",
        {SYS_DESCR: "Linux GXW4200 2.6.28.8 #183 Fri Dec 20 20:34:02 CST 2019 mips",
         SYS_OBJECT_ID: "1.3.6.1.4.1.8072.3.2.10", SYS_NAME: "GXW4200"},
        "GXW4200", None, None,
        True, "fusioninventory-agent issue 854 [FI-854]: host name is the family, 2.6.28.8 is the kernel",
    ),
    Sample(
        "grandstream GXP1620 in the same net-snmp shape", "grandstream",
        {SYS_DESCR: "Linux GXP1620 3.4.20 #1 PREEMPT Mon Jun 5 14:31:07 CST 2017 armv7l",
         SYS_OBJECT_ID: "1.3.6.1.4.1.8072.3.2.10"},
        "GXP1620", None, None,
        False, "[FI-854] shape with a GXP host name (guess)",
    ),
    Sample(
        "grandstream multi-line sysDescr, model only in sysName", "grandstream",
        {SYS_DESCR: "Linux\ngxp 3.4.20\n#1 armv7l", SYS_NAME: "GXP1628"},
        "GXP1628", None, None,
        False, "sysName defaulting to the model (guess); multi-line sysDescr as some agents send",
    ),
    Sample(
        "grandstream UA-like sysDescr", "grandstream",
        {SYS_DESCR: "Grandstream Model HW GXP1610 SW 1.0.4.106"},
        "GXP1610", "1.0.4.106", None,
        False, "HTTP UA shape 'Grandstream Model HW GXP1610 SW 1.0.4.106' [WZ-GC] as a sysDescr guess",
    ),
    # ---------------------------------------------------------------------------- Polycom
    Sample(
        "polycom VVX 600 with UCS version", "polycom",
        {SYS_DESCR: "Polycom VVX 600 5.8.1.7278", SYS_OBJECT_ID: "1.3.6.1.4.1.2684.1.1"},
        "VVX 600", "5.8.1.7278", None,
        False, "sysObjectID and 'sysDescr is the model' from [OA-2684]; text guessed",
    ),
    Sample(
        "polycom SoundPoint IP 331, model only", "polycom",
        {SYS_DESCR: "SoundPoint IP 331", SYS_OBJECT_ID: "1.3.6.1.4.1.2684.1.1"},
        "SoundPoint IP 331", None, None,
        False, "[OA-2684] uses sysDescr as the model string; text guessed",
    ),
    Sample(
        "polycom UA token in sysDescr", "polycom",
        {SYS_DESCR: "PolycomSoundPointIP-SPIP_550-UA/4.0.15.1009"},
        "SPIP_550", "4.0.15.1009", None,
        False, "HTTP UA token [WZ-PC] as a sysDescr guess",
    ),
    Sample(
        "polycom Linux-based VVX: kernel is not firmware", "polycom",
        {SYS_DESCR: "Linux VVX600 2.6.37.6 #1 PREEMPT armv7l", SYS_OBJECT_ID: "1.3.6.1.4.1.2684.1.1"},
        "VVX600", None, None,
        False, "net-snmp default shape on a VVX (guess)",
    ),
    Sample(
        "polycom answer without sysDescr", "polycom",
        {SYS_OBJECT_ID: "1.3.6.1.4.1.2684.1.1"},
        None, None, None,
        False, "agent that hides sysDescr (guess)",
    ),
)

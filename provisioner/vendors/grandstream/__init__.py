"""Grandstream desk, DECT and video phones: GXP1610/1620/1628/1630, GXV3275, DP750.

Its parts, as in every vendor package: see provisioner/vendors/__init__.py.
"""

from provisioner.vendors.grandstream import files, renderer, samples, snmp, user_agent
from provisioner.vendors.vendor import Vendor

VENDOR = Vendor(
    name=files.NAME, templates=renderer.TEMPLATES, render=renderer.render,
    name_rules=files.RULES, device_file=files.DEVICE_FILE, folders=(files.FOLDER,),
    firmware_file_name=None,  # one image per family (gxp1600fw.bin): no row field spells it
    parse_user_agent=user_agent.parse, ua_samples=samples.UA_SAMPLES,
    snmp_oids=snmp.OIDS, parse_snmp=snmp.parse, snmp_samples=samples.SNMP_SAMPLES,
    secret_parameters=renderer.SECRET_PARAMETERS,
    # MAC prefixes from wazo's DHCP classes (phones.md §1 [WZ-DHCP])
    ouis=("000b82", "c074ad", "ec74d7"),
)

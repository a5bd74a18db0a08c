"""Polycom UCS desk phones: SoundPoint IP 331, SoundPoint IP 550, VVX 600.

Its parts, as in every vendor package: see provisioner/vendors/__init__.py.
"""

from provisioner.vendors.polycom import files, renderer, samples, snmp, user_agent
from provisioner.vendors.vendor import Vendor

VENDOR = Vendor(
    name=files.NAME, templates=renderer.TEMPLATES, render=renderer.render,
    name_rules=files.RULES, device_file=files.DEVICE_FILE,
    firmware_file_name="{part_number}.sip.ld",  # phones.md §2.1
    parse_user_agent=user_agent.parse, ua_samples=samples.UA_SAMPLES,
    snmp_oids=snmp.OIDS, parse_snmp=snmp.parse, snmp_samples=samples.SNMP_SAMPLES,
    secret_parameters=renderer.SECRET_PARAMETERS,
    uploads=files.UPLOADS,  # logs and the user's override file, written back with HTTP PUT
    # MAC prefixes from wazo's DHCP classes (phones.md §1 [WZ-DHCP])
    ouis=("0004f2", "64167f", "482567"),
)

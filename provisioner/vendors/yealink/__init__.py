"""Yealink desk phones: T19P (V72), T20P (V73), T21P (V72).

Its parts, as in every vendor package: see provisioner/vendors/__init__.py.
"""

from provisioner.vendors.vendor import Vendor
from provisioner.vendors.yealink import files, renderer, samples, snmp, user_agent

VENDOR = Vendor(
    name=files.NAME, templates=renderer.TEMPLATES, render=renderer.render,
    name_rules=files.RULES, device_file=files.DEVICE_FILE,
    firmware_file_name="{firmware}.rom",  # phones.md §4.3
    parse_user_agent=user_agent.parse, ua_samples=samples.UA_SAMPLES,
    snmp_oids=snmp.OIDS, parse_snmp=snmp.parse, snmp_samples=samples.SNMP_SAMPLES,
    secret_parameters=renderer.SECRET_PARAMETERS,
    # MAC prefixes from wazo's DHCP classes (phones.md §1 [WZ-DHCP])
    ouis=("001565", "e434d7", "805ec0", "805e0c", "249ad8", "44dbd2", "644f56", "ec1da9", "3497d7", "b061a9", "c4fc22", "f01653"),
)

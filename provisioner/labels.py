"""The Spanish words the provisioner shows people, one table each (pure).

Finding kinds, roles and vendors, in the web app, the API's messages and device tickets; the
rulebook's ticket terms (types, priorities, statuses...) come from support_link.words, which the
helpdesk mail reads too. Nothing else types them.
"""

from support_link.words import CHANNELS, EVENTS, IMPACTS, PRIORITIES, SLA_STATES, STATUSES, TYPES, URGENCIES

UNASSIGNED_DEPARTMENT = "Sin asignar"  # the department of a phone with no extension (incidents' blast radius)

FINDINGS = {
    "firmware_older": "Firmware desactualizado",
    "firmware_newer": "Firmware más reciente que el homologado",
    "firmware_unknown": "Firmware no verificable",
    "model_not_homologated": "Modelo no homologado",
    "lines_exceeded": "Más líneas que las homologadas",
    "unreachable": "Sin respuesta SNMP",
    "snmp_firmware_mismatch": "Firmware SNMP distinto",
    "never_registered": "Nunca se registró",
}
# Finding kinds in a device ticket's subject and detail (longer than the list labels above).
FINDING_SUBJECTS = {
    "firmware_older": "Firmware desactualizado",
    "firmware_newer": "Firmware más reciente que el homologado",
    "firmware_unknown": "Firmware no verificable",
    "model_not_homologated": "Modelo no homologado",
    "lines_exceeded": "Más líneas que las homologadas",
    "unreachable": "Teléfono sin respuesta SNMP",
    "snmp_firmware_mismatch": "Firmware reportado por SNMP distinto del homologado",
    "never_registered": "Teléfono aprovisionado que nunca se registró en la central",
}
# What the registrar says of an account or a phone (devices page, CLI `devices`, readiness board).
REGISTRATION = {True: "registrado", False: "no registrado", None: "sin datos de la central"}
ROLES = {
    "agent": "Agente (nivel 1)", "specialist": "Especialista (nivel 2)", "installer": "Instalador",
    "admin": "Administrador",
}
VENDORS = {"polycom": "Polycom", "grandstream": "Grandstream", "yealink": "Yealink", "jitsi": "Jitsi", "wekall": "WeKall"}
ALL = {
    "types": TYPES, "priorities": PRIORITIES, "urgencies": URGENCIES, "impacts": IMPACTS,
    "statuses": STATUSES, "sla_states": SLA_STATES, "channels": CHANNELS, "findings": FINDINGS, "events": EVENTS,
    "finding_subjects": FINDING_SUBJECTS, "roles": ROLES, "vendors": VENDORS,
}

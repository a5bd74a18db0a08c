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
}
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

# Firmware campaigns (provisioner.campaigns): states, waves, and the notices' words.
CAMPAIGN_STATES = {
    "planned": "Planeada", "announced": "Anunciada", "in_window": "En ventana de mantenimiento",
    "done": "Terminada", "halted": "Detenida", "cancelled": "Cancelada",
}
CAMPAIGN_PHONE_STATES = {
    "pending": "Pendiente", "instructed": "Actualizando", "done": "Actualizado", "failed": "Falló",
    "already": "Ya tenía la versión", "skipped": "No alcanzado",
}
CAMPAIGN_DIRECTIONS = {"upgrade": "actualización", "downgrade": "regreso a una versión anterior", "mixed": "actualización y regreso"}
CAMPAIGN_WAVES = {1: "Canaria (5 %)", 2: "Resto"}
CAMPAIGN_NOTICES = {"announcement": "Anuncio de mantenimiento", "reminder": "Recordatorio de mantenimiento"}
CAMPAIGN_WINDOW = "entre las 19:00 del {day} y las 05:00 del {next_day} (hora de Colombia)"
CAMPAIGN_SUBJECT = "{notice}: firmware {model} {target} el {day} ({tenant})"
CAMPAIGN_TICKET_SUBJECT = "Mantenimiento programado: firmware {model} a {target} el {day}"
CAMPAIGN_INCIDENT_SUBJECT = "Campaña de firmware {model} detenida: {reason}"

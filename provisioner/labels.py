"""The Spanish words the provisioner shows people, one table each (pure).

The rulebook's terms (service-model.md), finding kinds, roles and vendors, in the web app,
the API's messages and device tickets. Nothing else types them. support_link's mail keeps
its own wording: that package knows nothing of the provisioner.
"""

UNASSIGNED_DEPARTMENT = "Sin asignar"  # the department of a phone with no extension (incidents' blast radius)

TYPES = {"incident": "Incidente", "requirement": "Requerimiento", "problem": "Problema"}
PRIORITIES = {"urgent": "Urgente", "high": "Alta", "normal": "Normal", "low": "Baja"}
URGENCIES = {"high": "Alta", "medium": "Media", "low": "Baja"}
IMPACTS = {"organization": "Organización", "department": "Departamento", "individual": "Individual"}
STATUSES = {
    "new": "Nuevo", "in_progress": "En curso", "escalated": "Escalado (nivel 2)",
    "resolved": "Resuelto", "closed": "Cerrado",
}
SLA_STATES = {"on_time": "A tiempo", "at_risk": "En riesgo", "breached": "Vencido"}
CHANNELS = {"portal": "Portal", "email": "Correo", "phone": "Teléfono", "whatsapp": "WhatsApp", "device": "Equipo"}
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
EVENTS = {
    "created": "Caso creado", "public_response": "Respuesta al solicitante", "internal_note": "Nota interna",
    "system_message": "Mensaje del sistema", "escalated": "Escalado a nivel 2", "resolved": "Resuelto",
    "reopened": "Reabierto", "requester_reply": "Respuesta del solicitante", "reclassified": "Reclasificado",
    "closed": "Cerrado", "auto_closed": "Cerrado automáticamente", "device_joined": "Equipo afectado agregado",
    "linked_incident": "Incidente vinculado", "linked_problem": "Vinculado a un problema",
    "device_recovered": "Equipo recuperado", "work_logged": "Trabajo registrado",
}
ALL = {
    "types": TYPES, "priorities": PRIORITIES, "urgencies": URGENCIES, "impacts": IMPACTS,
    "statuses": STATUSES, "sla_states": SLA_STATES, "channels": CHANNELS, "findings": FINDINGS, "events": EVENTS,
    "finding_subjects": FINDING_SUBJECTS, "roles": ROLES, "vendors": VENDORS,
}

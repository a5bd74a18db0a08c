"""The rulebook's words in Spanish, for every ticket field a person reads (pure).

One table per field, keyed by the stored value. The helpdesk mail (adapters/mail.py) and the
provisioner's web app and API (provisioner/labels.py) both read these; nothing retypes them.
"""

TYPES = {"incident": "Incidente", "requirement": "Requerimiento", "problem": "Problema"}
PRIORITIES = {"urgent": "Urgente", "high": "Alta", "normal": "Normal", "low": "Baja"}
URGENCIES = {"high": "Alta", "medium": "Media", "low": "Baja"}
IMPACTS = {"organization": "Organización", "department": "Departamento", "individual": "Individual"}
STATUSES = {
    "new": "Nuevo", "in_progress": "En curso", "escalated": "Escalado (nivel 2)",
    "resolved": "Resuelto", "closed": "Cerrado",
}
SLA_STATES = {"on_time": "A tiempo", "at_risk": "En riesgo", "breached": "Vencido"}
CHANNELS = {"portal": "Portal", "email": "Correo", "phone": "Teléfono", "whatsapp": "WhatsApp", "device": "Equipo (automático)"}
EVENTS = {
    "created": "Caso creado", "public_response": "Respuesta al solicitante", "internal_note": "Nota interna",
    "system_message": "Mensaje del sistema", "escalated": "Escalado a nivel 2", "resolved": "Resuelto",
    "reopened": "Reabierto", "requester_reply": "Respuesta del solicitante", "reclassified": "Reclasificado",
    "closed": "Cerrado (48 h después de resuelto)", "device_joined": "Equipo afectado agregado",
    "linked_incident": "Incidente vinculado", "linked_problem": "Vinculado a un problema",
    "device_recovered": "Equipo recuperado", "work_logged": "Trabajo registrado",
}
ACTORS = {"agent": "agente", "requester": "solicitante", "system": "sistema"}

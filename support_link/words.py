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
    "device_recovered": "Equipo recuperado", "work_logged": "Trabajo registrado", "assigned": "Caso tomado",
    "resolution_date_proposed": "Fecha de solución propuesta", "resolution_date_agreed": "Fecha de solución acordada",
    "survey_closed": "Encuesta: resuelto, caso cerrado", "survey_reopened": "Encuesta: no quedó resuelto, caso reabierto",
}
RESOLUTION_DATE_STATES = {"met": "cumplida", "missed": "incumplida", "pending": "pendiente"}
ACTORS = {"agent": "agente", "requester": "solicitante", "system": "sistema"}

# Ticket fields by name: the timeline's change records and the new-ticket form's errors.
FIELDS = {
    "id": "Número", "type": "Tipo", "status": "Estado", "urgency": "Urgencia", "impact": "Impacto",
    "priority": "Prioridad", "subject": "Asunto", "detail": "Detalle", "requester_name": "Solicitante",
    "requester_contact": "Contacto del solicitante", "channel": "Canal", "created_at": "Creado",
    "sla_start": "Inicio del ANS", "first_response_due": "Vence la primera respuesta",
    "first_response_at": "Primera respuesta", "resolved_at": "Resuelto", "closed_at": "Cerrado",
    "escalated": "Escalado", "tier": "Nivel", "dedup_key": "Clave de agrupación", "problem_id": "Problema",
    "linked_incidents": "Incidentes vinculados", "assignee": "Responsable", "account": "Cliente",
    "requester_email": "Correo del solicitante", "proposed_resolution_on": "Fecha de solución propuesta",
    "proposed_by": "Propuesta por", "agreed_resolution_on": "Fecha de solución acordada",
}
# Stored values of those fields, by field (the rest are shown as they are, dates in Bogota time).
FIELD_VALUES = {
    "type": TYPES, "status": STATUSES, "urgency": URGENCIES, "impact": IMPACTS, "priority": PRIORITIES,
    "channel": CHANNELS, "proposed_by": {"agent": "la mesa de ayuda", "requester": "el solicitante"},
}
NO_VALUE = "sin valor"
YES_NO = {True: "sí", False: "no"}

# What an agent can do on a ticket page: the button, and the message once it is done.
ACTIONS = {
    "take": "Tomar el caso", "respond": "Responder al solicitante", "note": "Nota interna",
    "escalate": "Escalar a nivel 2", "resolve": "Resolver", "reopen": "Reabrir", "reclassify": "Reclasificar",
    "log_work": "Registrar trabajo",
}
DONE = {
    "take": "Tomó el caso: ahora aparece en «Mis casos».", "take_again": "El caso ya era suyo.",
    "respond": "Respuesta registrada y enviada al solicitante.", "note": "Nota interna guardada.",
    "escalate": "Caso escalado a nivel 2.", "resolve": "Caso resuelto: se cierra solo en 48 horas.",
    "reopen": "Caso reabierto.", "reclassify": "Clasificación actualizada: prioridad y vencimiento recalculados.",
    "reclassify_same": "La clasificación no cambió.", "log_work": "Trabajo registrado.", "created": "Caso creado.",
}
REFUSED = "No se puede «{action}» un caso en estado «{status}»."
CONFIRM = {
    "resolve": "¿Resolver el caso? El solicitante recibirá el aviso.",
    "escalate": "¿Escalar el caso a nivel 2?",
    "reopen": "¿Reabrir el caso?",
}

"""The Spanish words the provisioner shows people, one table each (pure).

Finding kinds, roles and vendors, in the web app, the API's messages and device tickets; the
rulebook's ticket terms (types, priorities, statuses...) come from support_link.words, which the
helpdesk mail reads too. Nothing else types them.
"""

from support_link.words import (
    ACTIONS, CHANNELS, CONFIRM, EVENTS, FIELDS, IMPACTS, PRIORITIES, SLA_STATES, STATUSES, TYPES, URGENCIES,
)

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
# The device page: what a phone wrote back (provisioner.uploads).
UPLOADS = {
    "app_log": "Registro de la aplicación", "boot_log": "Registro de arranque",
    "override": "Ajustes locales del usuario (archivo de anulación)",
}
DEVICE_PAGE = {
    "title": "Equipo", "tenant": "Cliente", "model": "Modelo", "override": "Ajustes locales del usuario",
    "no_override": "El teléfono no ha enviado ajustes locales.", "logs": "Registros enviados por el teléfono",
    "no_logs": "El teléfono no ha enviado registros.", "received": "Recibido", "from": "desde", "bytes": "bytes",
    "masked": "Las contraseñas se muestran ocultas.", "back": "Volver a equipos",
}
# The readiness board (provisioner.site_readiness): its groups and what to do next for each.
READINESS_GROUPS = {
    "expected": "Teléfonos esperados",
    "booted": "Arrancaron desde el servidor",
    "firmware_ok": "Con el firmware homologado",
    "lines_ok": "Con las líneas dentro del límite",
    "snmp_ok": "Responden SNMP",
    "registered": "Registrados en el PBX",
    "ready": "Listos",
    "never_seen": "Nunca vistos",
    "firmware_bad": "Con firmware no homologado",
    "lines_bad": "Con más líneas de las homologadas",
    "snmp_bad": "Sin respuesta SNMP",
    "snmp_unknown": "Aún sin sondeo SNMP",
    "unregistered": "No registrados en el PBX",
    "waiting": "Esperando extensión (arrancaron sin asignar)",
    "no_phone": "Extensiones sin teléfono",
}
READINESS_STEPS = {
    "never_seen": "Revise que el teléfono esté conectado a la VLAN de voz, que el DHCP entregue la opción 66 del kit "
                  "y que el firewall deje salir HTTP(S)/TFTP hacia el servidor; luego reinícielo.",
    "firmware_bad": "Actualice el firmware a la versión homologada (campaña de firmware en la ventana de mantenimiento "
                    "de 19:00 a 05:00) o cambie el equipo por un modelo homologado.",
    "lines_bad": "Quite las extensiones que pasan el número de líneas homologadas del modelo, o páselas a otro teléfono.",
    "snmp_bad": "Revise que el firewall y la VLAN dejen pasar SNMP (UDP 161) desde el servidor hacia el teléfono "
                "y que el teléfono siga encendido.",
    "snmp_unknown": "Espere el primer sondeo SNMP (unos minutos después del arranque).",
    "unregistered": "Revise el SIP ALG (apagado), los puertos SIP/RTP del firewall y el usuario y la clave SIP de la extensión.",
    "waiting": "Asigne una extensión a estos teléfonos (importar extensiones o `provisioner extension add --mac`), "
               "o retírelos si no son de este cliente.",
    "no_phone": "Asigne la MAC y el modelo del teléfono de cada una de estas extensiones.",
    "registered_none": "El estado de registro llegará cuando el PBX entregue sus datos; mientras tanto no se cuenta.",
}
NO_PBX_DATA = "sin datos del PBX"  # the registration column before issue 19 brings the PBX's data

ALL = {
    "types": TYPES, "priorities": PRIORITIES, "urgencies": URGENCIES, "impacts": IMPACTS,
    "statuses": STATUSES, "sla_states": SLA_STATES, "channels": CHANNELS, "findings": FINDINGS, "events": EVENTS,
    "finding_subjects": FINDING_SUBJECTS, "roles": ROLES, "vendors": VENDORS, "uploads": UPLOADS,
    "readiness_groups": READINESS_GROUPS, "readiness_steps": READINESS_STEPS,
}

# Softphones (issue 15): the device list and the one-time link page.
NOT_REPORTED = "no reportado"  # an app that never told its version: never "compliant"
SOFTPHONE_LINK_GONE = "Este enlace ya se usó o venció. Pida uno nuevo a la mesa de ayuda."
SOFTPHONE_DELIVERY = {
    "jitsi": "Jitsi Desktop: en Opciones > Avanzado > Aprovisionamiento elija «URI personalizado», pegue la "
             "dirección y reinicie Jitsi; cuando la pida, escriba el usuario y la contraseña de aprovisionamiento.",
    "wave": "Grandstream Wave: en Configuración > Configuración de cuenta > + elija «Escanear código QR» "
            "y escanee este código.",
    "by_hand": "Escriba estos datos en la configuración de cuenta SIP de la aplicación.",
}
SOFTPHONE_SETTINGS = {  # the account as a softphone's manual form asks for it (softphones.account_settings)
    "domain": "Dominio SIP (realm)", "port": "Puerto", "transport": "Transporte",
    "proxy": "Proxy de salida", "user": "Usuario SIP", "auth_user": "Usuario de autenticación",
    "password": "Contraseña SIP",  # nosec B105: a label, not a password
    "extension": "Extensión", "display_name": "Nombre a mostrar",
}
SOFTPHONE_NO_PROXY = "(ninguno)"
SOFTPHONE_WAVE_XML = "Configuración para Grandstream Wave (lo mismo que el código QR)"
SOFTPHONE_MAIL_SUBJECT = "Su cuenta de softphone: extensión {extension}"
SOFTPHONE_MAIL_BODY = (
    "Hola {name}:\n\n"
    "Para configurar {model} en su equipo abra este enlace. Muestra los datos de su cuenta una sola vez "
    "y vence el {expires} (hora de Colombia):\n\n{url}\n\n"
    "Si usted no pidió esta cuenta, ignore este mensaje y avise a la mesa de ayuda.\n"
)
# The error pages' titles and hints, by HTTP status (the message under them says what happened).
ERROR_PAGES = {
    400: ("Solicitud no válida", "Revise lo enviado y vuelva a intentarlo."),
    403: ("Acceso denegado", "Su usuario no tiene permiso para esta página. Si lo necesita, pídalo a un administrador."),
    404: ("Página no encontrada", "La dirección no existe o el elemento fue borrado. Revise el enlace o vuelva al inicio."),
    405: ("Método no permitido", "Esta dirección no acepta esa operación."),
    409: ("No se pudo completar", "El estado actual no permite el cambio."),
    413: ("Envío demasiado grande", "Reduzca el tamaño de lo enviado."),
    422: ("Datos no válidos", "Corrija lo indicado y vuelva a intentarlo."),
    429: ("Demasiados intentos", "Espere unos minutos y vuelva a intentarlo."),
    500: ("Algo salió mal", "Fue un error del servidor, no suyo. Quedó registrado; intente de nuevo en unos minutos."),
}

# The devices page's filters.
COMPLIANCE = {"ok": "Conforme", "findings": "Con hallazgos", "unseen": "Sin contacto"}
ASSIGNMENT = {"assigned": "Asignados", "waiting": "Esperando extensión"}
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

# The customer portal (/portal/): what a requester reads. Timeline entries in the requester's
# words (the staff's EVENTS say "Respuesta al solicitante"; the requester is that person).
PORTAL_EVENTS = {
    **EVENTS,
    "created": "Solicitud registrada", "public_response": "Respuesta de la mesa de servicio",
    "requester_reply": "Su respuesta", "resolved": "Resuelto por la mesa de servicio",
    "reopened": "Reabierto", "closed": "Cerrado",
}
PORTAL_DATE_STATES = {"met": "cumplida", "missed": "incumplida", "pending": "pendiente"}
PORTAL_PROPOSED_BY = {"agent": "la mesa de servicio", "requester": "usted"}
PORTAL_LINK_PURPOSES = {"invite": "Invitación", "register": "Registro", "reset": "Nueva contraseña"}
PORTAL_RATINGS = {5: "5 · Muy satisfecho", 4: "4 · Satisfecho", 3: "3 · Neutral", 2: "2 · Insatisfecho",
                  1: "1 · Muy insatisfecho"}
PORTAL_ASKED = ("Si la dirección puede usar el portal, le enviamos un enlace para crear su cuenta o elegir una "
                "nueva contraseña. Revise su correo (también la carpeta de no deseado).")

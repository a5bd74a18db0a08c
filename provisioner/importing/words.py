"""The Spanish words of the extension-list import, one table (pure).

Every problem, warning and refusal an installer reads about a file (web page, API, CLI) is
written here, with the same precision as before: the value that is wrong, the rule, what to do.
The reader, the validator and the package's exceptions format these templates and type no
words of their own. The line limit and the softphone refusal are shared with `extension add`
and live at their source (firmware_catalog.lines, provisioner.softphones), in Spanish too.

Column names (extension, mac, sip_password...) and CLI options (--replace) stay as the installer
types them in the file or on the command line.
"""

from __future__ import annotations

TEXTS = {
    # one cell (validate.py)
    "extension_empty": "la extensión está vacía",
    "not_extension": "{value!r} no es un número de extensión: use de 2 a 6 dígitos",
    "name_empty": "el nombre está vacío",
    "name_control": "el nombre contiene un carácter de control (tabulador, salto de línea...)",
    "department_control": "el departamento contiene un carácter de control (tabulador, salto de línea...)",
    "too_long": "{what} tiene más de {limit} caracteres",
    "not_email": "{value!r} no es un correo electrónico válido",
    "not_mac": "{value!r} no es una dirección MAC (12 dígitos hexadecimales, p. ej. 00:15:65:AA:BB:CC)",
    "not_phone_mac": "{value!r} es {what}, no la MAC de un teléfono",
    "not_line": "{value!r} no es un número de línea: {limit}",
    "bad_password": "la contraseña SIP (sip_password) debe tener de 8 a 128 caracteres imprimibles, sin espacios",  # nosec B105 - a message, not a password
    "not_homologated": "{value!r} no es un modelo homologado (vea `provisioner catalog list`)",
    "model_empty": "falta el modelo: la MAC de un teléfono necesita su modelo (p. ej. T21P, GXP1620, VVX600)",
    # across rows and against the customer's phones (validate.py)
    "user_renamed": (
        "la extensión {number} ya tiene el usuario SIP {stored!r}, no {given!r}: una importación nunca renombra "
        "una cuenta (ponga en el archivo el usuario guardado, o borre y vuelva a crear la extensión cuando el PBX "
        "tenga el nuevo)"
    ),
    "user_taken": "el usuario SIP {user!r}{made} pertenece a la extensión {holder} ({where})",
    "user_made": " (formado con el formato de usuario SIP del cliente: dé a esta fila un sip_user)",
    "user_on_row": "en la fila {row}",
    "user_stored": "ya guardada",
    "repeated": "la extensión {number} está repetida: ya está en la fila {first}",
    "two_models": "la MAC {mac} es un {first_model} en la fila {first_row}: un mismo teléfono no puede ser también un {model}",
    "registered_as": "la MAC {mac} está registrada como {existing}, no como {model}",
    "slot_taken": "la línea {line} de la MAC {mac} ya la ocupa la extensión {taken} de la fila {row}",
    "foreign_mac": "la MAC {mac} pertenece a un teléfono de otro cliente",
    "held_outside": (
        "la línea {line} de la MAC {mac} tiene la extensión {number}, que no está en este archivo "
        "(agregue esa extensión con su nueva ubicación, o importe quitando las extensiones que no estén "
        "en el archivo, --replace, para quitarla)"
    ),
    "suspicious": (
        "{model}: los datos del catálogo para este modelo parecen errados (`provisioner catalog check`); "
        "se cargó de todos modos ({rows}, la primera aquí)"
    ),
    "without_mac": "se dio {what} sin MAC en {rows} (la primera aquí): se ignoró; esas extensiones aún no tienen teléfono",
    # the header row (reader.py)
    "unused_column": "la columna {header!r} no se usa y se ignoró",
    "repeated_column": "la columna {header!r} repite la columna {first!r} ({letter})",
    "no_extension_column": "falta la columna de extensión (encabezado extension o extensión)",
    "no_name_column": (
        "falta la columna del nombre (encabezado name|nombre, o first_name|nombres y last_name|apellidos)"
    ),
    "name_column_ignored": "la columna {header!r} se ignoró: la columna {name!r} ya da el nombre completo",
    # the file itself (reader.py, api.py, apply.py)
    "sheet_not_csv": "--sheet solo aplica a archivos XLSX",
    "cannot_open": "no se puede abrir {path}: {reason}",
    "old_xls": "este es un archivo de Excel antiguo (.xls): guárdelo como .xlsx o CSV e intente de nuevo",
    "not_xlsx": "{name} no es un archivo XLSX válido",
    "not_text": "el archivo no es texto UTF-8 ni Windows-1252",
    "bad_csv": "el archivo no es un CSV legible: {detail}",
    "no_header": "{where} no tiene fila de encabezado (se esperan columnas como extension, nombre, mac, modelo, linea)",
    "bad_xlsx": "no es un archivo XLSX legible ({detail})",
    "no_sheet": "no hay una hoja llamada {sheet!r} (hojas: {sheets})",
    "the_file": "el archivo",
    "sheet": "la hoja {sheet!r}",
    "sheet_detail": "hoja {sheet!r}",
    "csv_detail": "{encoding}, separado por {separator}",
    "unknown_tenant": "no hay un cliente con el identificador {slug!r} (vea `provisioner tenant list`)",
    "file_changed": "este archivo no es el que se revisó: súbalo de nuevo y revise la nueva vista previa",
    # where a problem is (values.Problem, as the CLI prints it)
    "row": "fila {row}",
    "column": ", columna {column}",
}

# The labels the templates above take as {what}.
FIELD_NAMES = {"name": "el nombre", "e-mail": "el correo", "department": "el departamento",
               "model": "el modelo", "line": "la línea"}
NOT_PHONES = {"all zeros": "todo ceros", "the broadcast address": "la dirección de difusión (broadcast)"}
SEPARATORS = {",": "','", ";": "';'", "\t": "tabulador"}
ENCODINGS = {"utf-8-sig": "UTF-8 con BOM", "utf-8": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252",
             "latin-1": "Latin-1"}


def say(key: str, **values: object) -> str:
    """The Spanish text `key` with its values filled in."""
    return TEXTS[key].format(**values)


def rows(count: int) -> str:
    """'1 fila', '2 filas'."""
    return f"{count} fila{'s' if count != 1 else ''}"

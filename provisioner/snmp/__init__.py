"""SNMP verification of phones after boot.

    provisioner.snmp.reading       (pure)    SnmpReading and the sysDescr shapes every vendor's parser reads
    provisioner.snmp.parse         (pure)    vendor + raw varbinds -> SnmpReading, by the registered vendor
    provisioner/vendors/<vendor>/snmp.py     (pure)    that vendor's OIDs and parser; samples.py beside it
    provisioner.snmp.reachability  (pure)    consecutive-timeout counter -> unreachable / recovered
    provisioner.snmp.client        (adapter) one SNMPv2c GET with pysnmp 7's asyncio API
    provisioner.snmp.poller        (adapter) schedules, bounds and repeats GETs; reports PollResult

The pure modules (this package, errors, reading, parse, reachability) import neither pysnmp
nor asyncio nor a database; tests/test_snmp_parse.py imports each in a fresh interpreter to
keep it so.

Exception tree (provisioner.snmp.errors; a branch of provisioner/errors.py's tree):

    SnmpError (ProvisionerError)
     ├── UnsupportedVendor   the vendor has no SNMP agent we know how to read (jitsi, wekall, ...)
     ├── AgentError          the agent answered, with an SNMP error-status (genErr, noSuchName, ...)
     └── RequestFailed       the request could not be made or the engine reported a non-timeout error

A timeout is not an exception: `snmp_get` returns None for "no answer".
"""

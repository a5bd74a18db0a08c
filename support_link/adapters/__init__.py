"""support_link's adapters: the work that runs outside a request, against the store and the network.

    jobs           the periodic pass (auto-close after 48 h, SLA-state refresh, then mail),
                   an asyncio task whose database calls run in a worker thread
    mail           forwards ticket events to the helpdesk mailbox over SMTP, one thread per ticket
    mail_settings  MailSettings, the plain value that configures `mail` (no I/O: the
                   provisioner's settings build it without importing smtplib)
    imap_intake    mail in: polls the helpdesk mailbox over IMAP, one transaction per mail,
                   tickets, replies, drafts and the rate-limited auto-replies
    imap_settings  ImapSettings, the plain value that configures `imap_intake`

Adapters import the core and the store; the core and the store never import an adapter.
"""

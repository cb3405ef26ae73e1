"""E-mail: invitation links sent through an SMTP server (``SMM_SMTP_*``), by a job.

A message row is queued in the request's transaction; a sender (the embedded runner's
mail thread, or the procrastinate task in ``smm worker``) claims it, renders it, hands it
to the SMTP server and records how that went. See ``app.mail.service`` for the delivery
rules (at most once, retried with back-off).
"""

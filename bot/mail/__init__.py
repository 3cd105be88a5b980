"""The monthly summary by e-mail: addresses, who gets a mail and what it says, stopping it.

The words and the choice of recipients live here; the e-mail platform (adapters/email/)
only turns the stored replies into a MIME message and hands it to an SMTP server.
"""

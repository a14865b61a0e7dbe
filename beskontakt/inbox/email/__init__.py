"""E-mail intake and delivery: parsing (no Django), threading into cases, the IMAP poller."""

"""Everything the bot says, in the chat's language (call under ``translation.override``)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def greeting(name: str) -> str:
    """The first words after /start."""
    if name:
        return _("Hello, %(name)s! This is the Beskontakt customer care bot.") % {"name": name}
    return _("Hello! This is the Beskontakt customer care bot.")


def ask_identifier() -> str:
    """How to link the chat to a contract."""
    return _(
        "To write to us from here, link this chat to your contract: send your contract number "
        "(it is on your contract and bills) or the phone number you gave us."
    )


def how_to_link() -> str:
    """The answer to an unlinked chat that sent something other than a contract or a code."""
    return _(
        "This chat is not linked to a contract yet, so we cannot see who you are. Send your contract "
        "number or phone number, and then the code we send you. Or call us if you prefer."
    )


def unknown_contract(identifier: str) -> str:
    """No subscriber has this contract number or phone."""
    return _(
        "We could not find a contract with the number or phone “%(value)s”. Check it (the contract number "
        "is on your contract and bills) and send it again."
    ) % {"value": identifier}


def too_many_lookups() -> str:
    """Too many contract numbers tried from one chat."""
    return _("Too many attempts to find a contract from this chat. Try again in an hour or call us.")


def code_sent(channel: str) -> str:
    """The link code went out on ``channel`` (``email`` or ``sms``)."""
    how = _("by e-mail") if channel == "email" else _("by SMS")
    return _(
        "We have sent a one-time code %(how)s to the contact in your contract. Send the code here to link this chat."
    ) % {"how": how}


def linked(contract: str) -> str:
    """The chat is now linked."""
    return _(
        "Done: this chat is linked to contract %(contract)s. Write your question here and an agent will "
        "answer in this chat."
    ) % {"contract": contract}


def already_linked(contract: str) -> str:
    """/start in a linked chat."""
    return _("This chat is linked to contract %(contract)s.") % {"contract": contract}


def help_text() -> str:
    """The list of commands."""
    return _(
        "Write your question in a message (you can attach photos of the equipment) and an agent will answer here.\n"
        "/status — your open requests\n"
        "/balance — balance and tariff\n"
        "/new — start a new request\n"
        "/check — check your connection\n"
        "/help — this help"
    )


def link_first() -> str:
    """A command that needs a linked chat."""
    return _("First link this chat to your contract: send your contract number or phone number.")


def case_opened(reference: str) -> str:
    """A new case was opened from the chat."""
    return _("We have registered your request %(ref)s. An agent will answer in this chat.") % {"ref": reference}


def describe_problem() -> str:
    """After /new."""
    return _("Describe the problem in one message (you can attach a photo). It will become a new request.")


def no_open_cases() -> str:
    """/status with nothing open."""
    return _("You have no open requests. Write here if something is wrong.")


def open_cases_title() -> str:
    """Heading of the /status answer."""
    return _("Your open requests:")


def case_line(reference: str, subject: str, status: str) -> str:
    """One case in the /status answer."""
    return _("%(ref)s %(subject)s — %(status)s") % {"ref": reference, "subject": subject, "status": status}


def balance_for(contract: str, amount: str, tariffs: str) -> str:
    """The /balance answer."""
    return _("Contract %(contract)s\nBalance: %(amount)s ₽\nTariff: %(tariffs)s") % {
        "contract": contract,
        "amount": amount,
        "tariffs": tariffs,
    }


def no_tariff() -> str:
    """A subscriber without an active subscription."""
    return _("no active tariff")


def file_refused(reason: str) -> str:
    """A file the desk does not accept."""
    return _("We could not accept this file: %(reason)s") % {"reason": reason}


def file_too_large(limit_mb: int) -> str:
    """A file over the size limit (refused before downloading)."""
    return _("The file is too large: at most %(mb)d MB.") % {"mb": limit_mb}


def file_download_failed() -> str:
    """Telegram would not give us the file."""
    return _("We could not download this file from Telegram. Please send it again.")


def unsupported() -> str:
    """Stickers, voice messages, locations ..."""
    return _("I can take text messages, photos and documents (PDF). Please describe the problem in words.")


def flood() -> str:
    """Sent once when a chat writes too fast."""
    return _(
        "You are sending messages too fast: we have your request and an agent will answer. "
        "Please wait a minute before writing more."
    )


def photo_body() -> str:
    """The body of a case message that is a photo without a caption (in the desk's language)."""
    return _("Photo from Telegram")


def file_body() -> str:
    """The body of a case message that is a document without a caption (in the desk's language)."""
    return _("File from Telegram")


def check_result(headline: str, body: str) -> str:
    """The /check answer: what the connection check found, in the subscriber's words."""
    return _("Connection check: %(headline)s.\n%(body)s") % {"headline": headline, "body": body}


def check_failed() -> str:
    """/check could not run."""
    return _("We could not check your connection just now. Please try again in a minute or write to us.")

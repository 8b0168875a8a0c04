"""Customer facts changed by conversations: the language a customer wants to be spoken to in."""
import pytest
from sqlalchemy import select

from orderline.customers import remember_language
from orderline.models import Conversation, Customer

ASHA = "+919000000001"  # a demo customer whose stored language is English
STRANGER = "+919888800001"


def languages(services, phone):
    with services.sessions() as s:
        customer = s.scalar(select(Customer.language).where(Customer.phone == phone))
        conv = s.scalar(select(Conversation.language).where(Conversation.phone == phone))
    return customer, conv


def test_language_is_stored_on_the_customer_and_their_conversation(services, demo):
    services.conversations.record_inbound(ASHA, "voice", "hello")
    assert languages(services, ASHA) == ("en", "en")
    assert remember_language(services.sessions, ASHA, "hi") is True
    assert languages(services, ASHA) == ("hi", "hi")


def test_a_customer_without_a_conversation_is_still_remembered(services, demo):
    assert remember_language(services.sessions, ASHA, "hi") is True
    assert languages(services, ASHA) == ("hi", None)


def test_an_unknown_caller_keeps_the_choice_on_the_conversation_only(services, demo):
    services.conversations.record_inbound(STRANGER, "voice", "hello")
    assert remember_language(services.sessions, STRANGER, "hi") is False
    assert languages(services, STRANGER) == (None, "hi")


def test_an_unsupported_language_is_refused_and_nothing_changes(services, demo):
    with pytest.raises(ValueError):
        remember_language(services.sessions, ASHA, "fr")
    assert languages(services, ASHA) == ("en", None)

"""Customer facts that conversations change: for now, the language a customer wants."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from orderline.models import LANGUAGES, Conversation, Customer
from orderline.orders import in_transaction


def remember_language(factory: sessionmaker[Session], phone: str, language: str) -> bool:
    """Store `language` for the customer (and their conversation) with this phone. False if unknown.

    The customer's orders show their language, so the order cache drops them on commit.

    Raises:
        ValueError: `language` is not one of LANGUAGES.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")

    def work(session: Session) -> bool:
        customer = session.scalars(select(Customer).where(Customer.phone == phone)).one_or_none()
        conv = session.scalars(select(Conversation).where(Conversation.phone == phone)).one_or_none()
        if conv is not None:
            conv.language = language
        if customer is None:
            return False
        customer.language = language
        return True

    return in_transaction(factory, work)

"""``QBSYNC_SECRET_KEY=new,old``: the old key still reads the stored tokens, and the next write (the
next refresh, or a new connection) encrypts them with the new key alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from services.errors import ConfigurationError
from services.store.models import QboConnection
from services.store.secrets import TokenCipher
from tests.builders import qb_company
from wiring.services import bootstrap


def stored_refresh(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(QboConnection.refresh_token)).scalar()


def test_rotation_reencrypts_on_the_next_write(connected, engine, emu, settings):
    old = settings.secret_key.get_secret_value()
    new = TokenCipher.generate_key()
    rotated = bootstrap(settings.model_copy(update={"secret_key": SecretStr(f"{new},{old}")}), engine=engine)
    qb_company(rotated.api)  # reads with the old key: nothing to do by hand
    assert TokenCipher(new).configured
    before = stored_refresh(engine)
    assert TokenCipher(old).decrypt(before)

    emu.expire_tokens()  # the next refresh writes the rotated tokens
    rotated.api.query("SELECT * FROM CompanyInfo")
    after = stored_refresh(engine)
    assert after != before
    assert TokenCipher(new).decrypt(after), "the new key alone reads what was written"
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        TokenCipher(old).decrypt(after)

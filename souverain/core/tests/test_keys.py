"""Issue 13 item 7, keys: with default settings the credentials key was derived from a public development secret
(a read-only copy of the database decrypted a cloud password), nothing refused to serve with it, and there was no
rotation. Each test here failed against that."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.fernet import Fernet, InvalidToken

from souverain.core import crypto
from souverain.core.startup import InsecureSettings, refuse_insecure_start

SECRET = {"auth": {"password": "s3cret-cloud-password"}}


@pytest.fixture
def key_file(settings, tmp_path):
    settings.CREDENTIALS_KEY = ""
    settings.CREDENTIALS_OLD_KEYS = []
    settings.CREDENTIALS_KEY_FILE = tmp_path / "credentials.key"
    return settings.CREDENTIALS_KEY_FILE


@pytest.fixture
def clouds(example_estate):
    from souverain.estate.models import Cloud

    stored = list(Cloud.objects.order_by("pk")[:3])
    for index, cloud in enumerate(stored):
        cloud.set_credentials({**SECRET, "index": index})
        cloud.save()
    return stored


def _tokens(clouds: list) -> list[str]:
    from souverain.estate.models import Cloud

    return [Cloud.objects.get(pk=c.pk).credentials_encrypted for c in clouds]


def test_serving_beyond_loopback_with_development_secrets_is_refused(settings, key_file):
    settings.DEBUG = False
    settings.SECRET_KEY = settings.DEFAULT_SECRET_KEY
    for addr in ("0.0.0.0:8000", "192.0.2.10:8000", "[::]:8000"):
        with pytest.raises(InsecureSettings) as refused:
            refuse_insecure_start(addr)
        assert "SOUVERAIN_SECRET_KEY" in str(refused.value) and "credentials key" in str(refused.value)
    for addr in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "unix:/run/souverain.sock"):
        refuse_insecure_start(addr)
    settings.ALLOWED_HOSTS = ["souverain.example.org"]
    with pytest.raises(InsecureSettings):
        refuse_insecure_start()  # the WSGI module's check
    settings.SECRET_KEY = "an-operator-chosen-secret-key-of-some-length"
    with pytest.raises(InsecureSettings) as refused:
        refuse_insecure_start("0.0.0.0:8000")
    assert "credentials key" in str(refused.value) and "SOUVERAIN_SECRET_KEY" not in str(refused.value)
    crypto.write_key_file([Fernet.generate_key()])
    refuse_insecure_start("0.0.0.0:8000")
    settings.DEBUG = True
    settings.SECRET_KEY = settings.DEFAULT_SECRET_KEY
    refuse_insecure_start("0.0.0.0:8000")


@pytest.mark.django_db
def test_setup_creates_a_private_key_file_and_moves_the_old_secrets_to_it(key_file, clouds):
    before = _tokens(clouds)
    derived = Fernet(crypto.derived_key())
    assert derived.decrypt(before[0].encode())  # what an attacker with the public secret could read
    assert crypto.ensure_key_file() is True
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    after = _tokens(clouds)
    assert all(old != new for old, new in zip(before, after, strict=True))
    with pytest.raises(InvalidToken):
        derived.decrypt(after[0].encode())
    assert [c.get_credentials()["index"] for c in clouds] == [0, 1, 2]
    assert crypto.ensure_key_file() is False  # once only


@pytest.mark.django_db
def test_rotation_reencrypts_everything_and_drops_the_old_key(key_file, clouds):
    from souverain.audit.models import AuditRecord

    crypto.ensure_key_file()
    old_key = crypto.read_key_file()[0]
    report = crypto.rotate()
    assert report["rows"]["estate.cloud.credentials_encrypted"] == 3 and report["resumed"] is False
    keys = crypto.read_key_file()
    assert len(keys) == 1 and keys[0] != old_key
    for token in _tokens(clouds):
        with pytest.raises(InvalidToken):
            Fernet(old_key).decrypt(token.encode())
        assert Fernet(keys[0]).decrypt(token.encode())
    assert AuditRecord.objects.filter(action="keys.rotated").exists()


@pytest.mark.django_db
def test_an_interrupted_rotation_is_finished_by_running_it_again(key_file, clouds, monkeypatch):
    crypto.ensure_key_file()
    old_key = crypto.read_key_file()[0]
    real_rotate = crypto.MultiFernet.rotate
    calls = {"n": 0}

    def crash_on_second(self, token):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("power cut")
        return real_rotate(self, token)

    monkeypatch.setattr(crypto.MultiFernet, "rotate", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        crypto.rotate()
    keys = crypto.read_key_file()
    assert len(keys) == 2 and keys[1] == old_key  # the new key first, the old one kept for reading
    assert [c.get_credentials()["index"] for c in clouds] == [0, 1, 2]  # everything still readable
    monkeypatch.setattr(crypto.MultiFernet, "rotate", real_rotate)
    report = crypto.rotate()
    assert report["resumed"] is True and report["rows"]["estate.cloud.credentials_encrypted"] == 2
    assert crypto.read_key_file() == [keys[0]]
    for token in _tokens(clouds):
        assert Fernet(keys[0]).decrypt(token.encode())


@pytest.mark.django_db
def test_rotation_with_keys_from_the_environment(settings, key_file, clouds):
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEY = first
    crypto.reencrypt_all()
    settings.CREDENTIALS_KEY, settings.CREDENTIALS_OLD_KEYS = second, [first]
    assert crypto.rotate()["rows"]["estate.cloud.credentials_encrypted"] == 3
    settings.CREDENTIALS_OLD_KEYS = []
    assert [c.get_credentials()["index"] for c in clouds] == [0, 1, 2]
    with pytest.raises(InvalidToken):
        Fernet(first.encode()).decrypt(_tokens(clouds)[0].encode())

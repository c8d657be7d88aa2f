"""This installation's sync identity: keys made at first run, public halves in settings, fingerprints shown."""

from __future__ import annotations

import base64
from pathlib import Path

from app.installation import get_setting, set_setting
from app.sync.keys import InstallationKeys, create_keys, fingerprint, key_dir_for, key_path, load_keys
from db.store import Store

SIGNING_PUBLIC = "installation.signing_public"
ENCRYPTION_PUBLIC = "installation.encryption_public"


def key_dir(store: Store) -> Path | None:
    """Where the private keys live: the `keys` folder beside the database (none for an in-memory one)."""
    return None if store.path == ":memory:" else key_dir_for(store.path)


def create_identity(store: Store, installation_id: str) -> InstallationKeys | None:
    """Make the keys (inside the caller's transaction for the settings; the caller removes the key file
    with `discard_identity` if that transaction fails)."""
    folder = key_dir(store)
    keys = create_keys(folder, installation_id) if folder else InstallationKeys.generate(installation_id)
    set_setting(store, SIGNING_PUBLIC, base64.b64encode(keys.signing_public).decode())
    set_setting(store, ENCRYPTION_PUBLIC, base64.b64encode(keys.encryption_public).decode())
    return keys


def discard_identity(store: Store, installation_id: str) -> None:
    folder = key_dir(store)
    if folder:
        key_path(folder, installation_id).unlink(missing_ok=True)


def public_keys(store: Store) -> tuple[bytes, bytes] | None:
    """(Ed25519 signing, X25519 encryption) public keys of this installation, raw."""
    sign, enc = get_setting(store, SIGNING_PUBLIC), get_setting(store, ENCRYPTION_PUBLIC)
    if not sign or not enc:
        return None
    return base64.b64decode(sign), base64.b64decode(enc)


def load_identity_keys(store: Store, installation_id: str) -> InstallationKeys:
    """The private keys, checked against the public halves recorded at first run."""
    folder = key_dir(store)
    keys = load_keys(folder, installation_id)
    recorded = public_keys(store)
    if recorded and recorded != (keys.signing_public, keys.encryption_public):
        from app.sync.keys import KeyFileError

        raise KeyFileError(f"密钥文件 {key_path(folder, installation_id)} 与本数据库登记的公钥不符，"
                           "可能被替换：无法签名或解密同步文件。", file=str(key_path(folder, installation_id)))
    return keys


def describe(store: Store, installation_id: str) -> dict:
    """Fingerprints and key-file state for `sync identity` and 帮助 → 关于."""
    keys = public_keys(store)
    folder = key_dir(store)
    info = {
        "signing_fingerprint": fingerprint(keys[0]) if keys else None,
        "encryption_fingerprint": fingerprint(keys[1]) if keys else None,
        "key_file": str(key_path(folder, installation_id)) if folder else None,
        "key_file_ok": False,
    }
    if folder and keys:
        try:
            load_identity_keys(store, installation_id)
            info["key_file_ok"] = True
        except Exception:  # noqa: BLE001 - reported as state, the message comes from load when used
            info["key_file_ok"] = False
    return info

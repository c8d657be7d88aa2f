"""Installation keys: an Ed25519 key that signs this installation's packages and an X25519 key others encrypt to.

The private keys live in one file in the data folder beside the database (`keys/<installation id>.key`, mode
0600), never in the database and never in a package, so a copied database or a lost USB stick gives nobody the
power to sign or decrypt. Public keys travel as raw 32-byte values; operators compare short fingerprints
("a1b2-c3d4-e5f6-0718") out of band before a hub enrolls a station.

Key file (UTF-8 JSON): {"format": "zhuqi-installation-keys", "version": 1, "installation_id": ...,
"ed25519_private": PKCS8 PEM, "x25519_private": PKCS8 PEM}. All crypto is done by `cryptography`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.errors import AppError
from app.files import FileWriteError, write_file_atomic

KEY_FILE_FORMAT = "zhuqi-installation-keys"
KEY_FILE_VERSION = 1
KEY_DIR_NAME = "keys"
PUBLIC_KEY_SIZE = 32
_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class KeyFileError(AppError):
    """This installation's key file is missing, damaged, or cannot be written."""


@dataclass(frozen=True)
class InstallationKeys:
    installation_id: str
    signing_key: Ed25519PrivateKey
    encryption_key: X25519PrivateKey

    @classmethod
    def generate(cls, installation_id: str) -> InstallationKeys:
        return cls(installation_id, Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    @property
    def signing_public(self) -> bytes:
        """Raw 32-byte Ed25519 public key (what a hub stores when it enrolls this installation)."""
        return self.signing_key.public_key().public_bytes(*_RAW)

    @property
    def encryption_public(self) -> bytes:
        """Raw 32-byte X25519 public key (what senders encrypt packages to)."""
        return self.encryption_key.public_key().public_bytes(*_RAW)

    @property
    def signing_fingerprint(self) -> str:
        return fingerprint(self.signing_public)

    @property
    def encryption_fingerprint(self) -> str:
        return fingerprint(self.encryption_public)

    def sign(self, data: bytes) -> bytes:
        return self.signing_key.sign(data)

    def __repr__(self) -> str:  # never print key material
        return (f"InstallationKeys({self.installation_id!r}, sign={self.signing_fingerprint}, "
                f"enc={self.encryption_fingerprint})")


def fingerprint(public_bytes: bytes) -> str:
    """First 16 hex digits of SHA-256 of a raw public key, in groups of four: "a1b2-c3d4-e5f6-0718"."""
    digest = hashlib.sha256(bytes(public_bytes)).hexdigest()[:16]
    return "-".join(digest[i:i + 4] for i in range(0, 16, 4))


def verify_signature(public_bytes: bytes, signature: bytes, data: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `data` by the raw public key `public_bytes`."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_bytes)).verify(bytes(signature), data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def key_dir_for(db_path: str | Path) -> Path:
    """The folder holding the private keys of the installation whose database is `db_path`."""
    return Path(db_path).resolve().parent / KEY_DIR_NAME


def key_path(key_dir: Path, installation_id: str) -> Path:
    if not installation_id or any(c in installation_id for c in "/\\:.") or len(installation_id) > 64:
        raise KeyFileError(f"安装标识“{installation_id}”无效，无法确定密钥文件。")
    return Path(key_dir) / f"{installation_id}.key"


def _pem(key: Ed25519PrivateKey | X25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def create_keys(key_dir: Path, installation_id: str) -> InstallationKeys:
    """Make this installation's keys and save them (0600, atomically). Refuses to replace an existing key file:
    losing the keys would cut the installation off from every hub that enrolled it."""
    path = key_path(key_dir, installation_id)
    if path.exists():
        raise KeyFileError(f"本机密钥文件已存在：{path}，不会覆盖（覆盖后已登记的汇总端将无法识别本机）。",
                           file=str(path))
    keys = InstallationKeys.generate(installation_id)
    doc = {"format": KEY_FILE_FORMAT, "version": KEY_FILE_VERSION, "installation_id": installation_id,
           "ed25519_private": _pem(keys.signing_key), "x25519_private": _pem(keys.encryption_key)}
    data = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    try:
        Path(key_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise KeyFileError(f"无法创建密钥文件夹 {key_dir}：{exc.strerror or exc}", file=str(path)) from exc
    try:
        write_file_atomic(path, data, mode=0o600)
    except FileWriteError as exc:
        raise KeyFileError(f"无法保存本机密钥文件：{path}（{exc.message}）", file=str(path)) from exc
    return keys


def load_keys(key_dir: Path, installation_id: str) -> InstallationKeys:
    path = key_path(key_dir, installation_id)
    damaged = f"本机密钥文件缺失或损坏：{path}，无法签名或解密同步文件"
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != KEY_FILE_FORMAT:
            raise ValueError("not a key file")
        if doc.get("version") != KEY_FILE_VERSION or doc.get("installation_id") != installation_id:
            raise ValueError("wrong version or installation")
        sign = serialization.load_pem_private_key(doc["ed25519_private"].encode("ascii"), password=None)
        enc = serialization.load_pem_private_key(doc["x25519_private"].encode("ascii"), password=None)
    except FileNotFoundError as exc:
        raise KeyFileError(damaged + "（文件不存在）。", file=str(path)) from exc
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeError) as exc:
        raise KeyFileError(damaged + "。", file=str(path)) from exc
    if not isinstance(sign, Ed25519PrivateKey) or not isinstance(enc, X25519PrivateKey):
        raise KeyFileError(damaged + "（密钥类型不对）。", file=str(path))
    return InstallationKeys(installation_id, sign, enc)

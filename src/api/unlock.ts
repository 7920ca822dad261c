import { Type, type Static } from 'typebox';

/**
 * POST /api/unlock: opens an encrypted data dir while the server runs locked. `passphrase`: its passphrase; left
 * out after `openrecall lock` on a server started with a key file or the OS keyring: that source is read again.
 */
export const UnlockRequest = Type.Object({ passphrase: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })) }, { additionalProperties: false });
export type UnlockRequest = Static<typeof UnlockRequest>;

export const UnlockResult = Type.Object({ unlocked: Type.Literal(true) });
export type UnlockResult = Static<typeof UnlockResult>;

/** POST /api/lock (`openrecall lock`): an empty JSON object; the server wipes its keys and serves the locked app. */
export const LockRequest = Type.Object({}, { additionalProperties: false });
export type LockRequest = Static<typeof LockRequest>;

export const LockResult = Type.Object({
  locked: Type.Literal(true),
  /** What unlocks it again: a passphrase (the page or `openrecall unlock`), or the configured source read again. */
  unlock_with: Type.Union([Type.Literal('passphrase'), Type.Literal('passphrase or configured source')]),
});
export type LockResult = Static<typeof LockResult>;

/** GET /api/encryption: whether the memory is encrypted and this server can be locked (the web UI's Lock button). */
export const EncryptionStatus = Type.Object({
  encrypted: Type.Boolean(),
  /** The key source that opened it; null when not encrypted. */
  source: Type.Union([Type.Literal('key-file'), Type.Literal('passphrase'), Type.Literal('keyring'), Type.Null()]),
  lockable: Type.Boolean(),
});
export type EncryptionStatus = Static<typeof EncryptionStatus>;

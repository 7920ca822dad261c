import { Type, type Static } from 'typebox';

/** POST /api/unlock: the passphrase of an encrypted data dir, while the server runs locked. */
export const UnlockRequest = Type.Object({ passphrase: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
export type UnlockRequest = Static<typeof UnlockRequest>;

export const UnlockResult = Type.Object({ unlocked: Type.Literal(true) });
export type UnlockResult = Static<typeof UnlockResult>;

import { Type, type Static } from 'typebox';

export const Health = Type.Object({ status: Type.Literal('ok'), version: Type.String() });
export type Health = Static<typeof Health>;

export const Session = Type.Object({ auth_required: Type.Boolean(), authenticated: Type.Boolean() });
export type Session = Static<typeof Session>;
/** POST /api/session/logout and /api/session/rotate: how many sessions stopped working ('this' one, or 'all'). */
export const SessionClosed = Type.Object({ revoked: Type.Union([Type.Literal('this'), Type.Literal('all'), Type.Literal('none')]) });
export type SessionClosed = Static<typeof SessionClosed>;

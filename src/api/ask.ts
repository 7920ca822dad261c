import { Type, type Static } from 'typebox';
import { Moment } from './search.js';

export const AskBody = Type.Object(
  {
    question: Type.String({
      minLength: 1,
      maxLength: 2000,
      description: 'A question about what was on screen; a time phrase in it ("yesterday afternoon") narrows the frames',
    }),
    since: Type.Optional(Type.String({ maxLength: 64, description: 'Earliest capture time: Unix seconds or ISO 8601' })),
    until: Type.Optional(Type.String({ maxLength: 64, description: 'Latest capture time: Unix seconds or ISO 8601' })),
    app: Type.Optional(Type.String({ maxLength: 512, description: 'Only this application (exact name, case-insensitive)' })),
  },
  { additionalProperties: false },
);
export type AskBody = Static<typeof AskBody>;

const frameFields = {
  id: Type.Integer(),
  timestamp: Type.Number(),
  app: Type.Union([Type.String(), Type.Null()]),
  title: Type.Union([Type.String(), Type.Null()]),
  link: Type.String({ description: 'The frame in the web UI' }),
  thumbnail_url: Type.String(),
};

export const AskFrame = Type.Object(frameFields);
export type AskFrame = Static<typeof AskFrame>;

export const AskContextFrame = Type.Object({
  ...frameFields,
  text: Type.String({ description: 'The screen text as the model was given it (clipped to the token budget)' }),
  moment: Type.Optional(Moment),
});
export type AskContextFrame = Static<typeof AskContextFrame>;

export const AskAnswer = Type.Object({
  answer: Type.String(),
  citations: Type.Array(AskFrame, {
    description: 'Frames the answer cites with [frame:ID], in order of first citation; labels not in the context are dropped',
  }),
  frames_considered: Type.Integer({ description: 'How many frames the model was given' }),
  context: Type.Array(AskContextFrame, { description: 'The frames the model was given, best first' }),
});
export type AskAnswer = Static<typeof AskAnswer>;

export const AskContext = Type.Object({
  frames_considered: Type.Integer(),
  context: Type.Array(AskContextFrame),
});
export type AskContext = Static<typeof AskContext>;

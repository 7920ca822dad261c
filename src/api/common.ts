import { Type, type Static } from 'typebox';

/** Every error answer: `{ statusCode, error, message }`. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String({ description: 'Machine-readable code' }),
    message: Type.String({ description: 'What was wrong, naming the field where there is one' }),
    requestId: Type.Optional(Type.String({ description: 'On a server error (500): the id under which it is logged' })),
  },
  { $id: 'Error' },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

export const errorResponses = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, Type.Ref('Error')]));

export const Status = Type.Union([Type.Literal('PENDING'), Type.Literal('PROCESSING'), Type.Literal('COMPLETED'), Type.Literal('FAILED')], {
  description: 'Processing state of a frame',
});
export type Status = Static<typeof Status>;

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

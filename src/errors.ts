/** An error meant for the API client: its status code and message are sent as they are. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly code = 'BAD_REQUEST',
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, `${what} not found`, 'NOT_FOUND');

/** The one place the API token becomes a header (CLI, capture client, import). */
export const bearer = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

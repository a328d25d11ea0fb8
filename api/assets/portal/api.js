// The public GraphQL API, as the portal uses it: queries and mutations over HTTP, subscriptions
// over graphql-transport-ws (graphql-ws's browser build), each with the signed-in bearer token.

const TOKEN_KEY = 'directory-sync-token';

export const token = () => sessionStorage.getItem(TOKEN_KEY);

export function signInWith(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

/** Why the last session ended, for the sign-in screen to say (once). */
const ENDED_KEY = 'directory-sync-ended';

export function signOut(why) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (why) sessionStorage.setItem(ENDED_KEY, why);
  socket?.dispose();
  socket = undefined;
  location.hash = '#/sign-in';
}

export function endedBecause() {
  const why = sessionStorage.getItem(ENDED_KEY);
  sessionStorage.removeItem(ENDED_KEY);
  return why;
}

/** A link that carries `#token=…` (`demo --open`, a pasted URL) signs in with it, then forgets
 * it: the address bar and the history keep no token. */
export function takeTokenFromUrl() {
  const match = location.hash.match(/^#token=(.+)$/);
  if (match) {
    signInWith(decodeURIComponent(match[1]));
    history.replaceState(null, '', '#/integrations');
  }
}

export class ApiError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.extensions?.code;
    this.field = error.extensions?.field;
  }
}

export async function gql(query, variables = {}) {
  return answered(await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
    body: JSON.stringify({ query, variables }),
  }));
}

/** `query` with the variable `file` as `file`, sent as the GraphQL multipart request spec says:
 * the operation, the map of files to variables, then the file. */
export async function gqlUpload(query, variables, file) {
  const body = new FormData();
  body.append('operations', JSON.stringify({ query, variables: { ...variables, file: null } }));
  body.append('map', JSON.stringify({ 0: ['variables.file'] }));
  body.append('0', file, file.name);
  return answered(await fetch('/graphql', { method: 'POST', headers: { authorization: `Bearer ${token()}` }, body }));
}

async function answered(response) {
  // Not the API's JSON: a proxy's page (a 413 for a file too large for it, say).
  if (!(response.headers.get('content-type') ?? '').includes('json')) {
    throw new ApiError({ message: `The server answered ${response.status} ${response.statusText}. Try again, or with a smaller file.` });
  }
  const body = await response.json();
  if (body.errors?.length) {
    const error = new ApiError(body.errors[0]);
    if (error.code === 'UNAUTHENTICATED') signOut(`Your sign-in ended (${error.message}). Sign in again.`);
    throw error;
  }
  return body.data;
}

let socket;
function subscriptions() {
  if (!socket) {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`;
    socket = window.graphqlWs.createClient({ url, connectionParams: () => ({ authorization: `Bearer ${token()}` }) });
  }
  return socket;
}

/** Calls `onData` with each event of `query` until the returned function is called. */
export function subscribe(query, variables, onData, onError) {
  return subscriptions().subscribe(
    { query, variables },
    {
      next: (message) => (message.errors ? onError(new ApiError(message.errors[0])) : onData(message.data)),
      error: (e) => onError(e instanceof Error ? e : new Error('the connection to the server was lost')),
      complete: () => {},
    },
  );
}

// The public GraphQL API, as the portal uses it: queries and mutations over HTTP, subscriptions
// over graphql-transport-ws (graphql-ws's browser build), each with the signed-in bearer token.

const TOKEN_KEY = 'directory-sync-token';

export const token = () => sessionStorage.getItem(TOKEN_KEY);

export function signInWith(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  socket?.dispose();
  socket = undefined;
  location.hash = '#/sign-in';
}

/** A link that carries `#token=…` (`demo --open`, a pasted URL) signs in with it, then forgets it. */
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
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token()}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) {
    const error = new ApiError(body.errors[0]);
    if (error.code === 'UNAUTHENTICATED') signOut();
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

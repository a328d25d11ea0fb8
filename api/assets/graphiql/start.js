// Starts GraphiQL against this server's GraphQL endpoints. Paste the bearer token into the
// Headers tab as {"Authorization": "Bearer <token>"}; it is sent over HTTP and, for
// subscriptions, in connection_init.
const here = (path, socket) => {
  const url = new URL(path, window.location.origin);
  if (socket) url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
};
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher: GraphiQL.createFetcher({ url: here("/graphql"), subscriptionUrl: here("/graphql/ws", true) }),
    defaultEditorToolsVisibility: true,
  }),
);

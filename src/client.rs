//! A small GraphQL client over HTTP and graphql-transport-ws, used by `demo` and the end-to-end
//! tests: they walk the product exactly as a frontend would.

use anyhow::{anyhow, bail, Context as _};
use api::error::ErrorCode;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// One GraphQL answer.
#[derive(Debug, Clone)]
pub struct GraphqlResponse {
    pub data: Value,
    pub errors: Vec<Value>,
}

impl GraphqlResponse {
    /// The answer in `body`. As a client generated from the schema would, it refuses an error
    /// without `extensions.code` or with a code the schema's `ErrorCode` does not list.
    fn from_json(mut body: Value) -> anyhow::Result<Self> {
        let errors = body.get_mut("errors").map(Value::take).and_then(|e| e.as_array().cloned()).unwrap_or_default();
        for error in &errors {
            let code = error.pointer("/extensions/code").and_then(Value::as_str);
            if code.and_then(ErrorCode::from_name).is_none() {
                bail!("the server answered an error whose code the schema's ErrorCode lacks: {error}");
            }
        }
        Ok(Self { data: body.get_mut("data").map(Value::take).unwrap_or(Value::Null), errors })
    }

    /// The data, or an error describing what the server said went wrong.
    pub fn ok(self) -> anyhow::Result<Value> {
        if self.errors.is_empty() {
            Ok(self.data)
        } else {
            bail!("GraphQL errors: {}", Value::Array(self.errors))
        }
    }

    /// `extensions.code` of the first error.
    pub fn error_code(&self) -> Option<&str> {
        self.errors.first()?.pointer("/extensions/code")?.as_str()
    }

    /// `extensions.<name>` of the first error.
    pub fn error_extension(&self, name: &str) -> Option<&Value> {
        self.errors.first()?.get("extensions")?.get(name)
    }
}

#[derive(Clone)]
pub struct GraphqlClient {
    http: reqwest::Client,
    base_url: String,
    token: Option<String>,
}

impl GraphqlClient {
    /// `base_url` like `http://127.0.0.1:8080`; `token` the bearer JWT, if any. It keeps
    /// cookies, as the browser running a frontend would (the sign-in cookie).
    pub fn new(base_url: &str, token: Option<String>) -> Self {
        let http = reqwest::Client::builder().cookie_store(true).build().expect("an HTTP client");
        Self { http, base_url: base_url.trim_end_matches('/').to_string(), token }
    }

    /// The client's HTTP side: the browser, with its cookies, for pages outside GraphQL.
    pub fn browser(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn execute(&self, query: &str, variables: Value) -> anyhow::Result<GraphqlResponse> {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base_url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    /// Executes an operation whose variable `file` is a file, as the GraphQL multipart request
    /// spec sends it: the operation, the map of files to variables, then the file.
    pub async fn upload(
        &self,
        query: &str,
        variables: Value,
        file_name: &str,
        content: Vec<u8>,
    ) -> anyhow::Result<GraphqlResponse> {
        let mut variables = variables;
        variables["file"] = Value::Null;
        let operations = json!({ "query": query, "variables": variables });
        let form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", json!({ "0": ["variables.file"] }).to_string())
            .part("0", reqwest::multipart::Part::bytes(content).file_name(file_name.to_string()));
        let mut request = self.http.post(format!("{}/graphql", self.base_url)).multipart(form);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<GraphqlResponse> {
        let response = request.send().await.context("POST /graphql")?;
        let status = response.status();
        let body: Value =
            response.json().await.with_context(|| format!("POST /graphql answered {status} without JSON"))?;
        GraphqlResponse::from_json(body)
    }

    /// Starts a subscription over graphql-transport-ws.
    pub async fn subscribe(&self, query: &str, variables: Value) -> anyhow::Result<Subscription> {
        let ws_url = format!("{}/graphql/ws", self.base_url.replacen("http", "ws", 1));
        let mut request = ws_url.into_client_request()?;
        request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.context("connecting the WebSocket")?;
        let payload = match &self.token {
            Some(token) => json!({ "Authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        socket.send(Message::text(json!({ "type": "connection_init", "payload": payload }).to_string())).await?;
        loop {
            let message = socket.next().await.ok_or_else(|| anyhow!("the server closed before connection_ack"))??;
            if let Message::Text(text) = message {
                let value: Value = serde_json::from_str(&text)?;
                match value["type"].as_str() {
                    Some("connection_ack") => break,
                    Some("ping") => socket.send(Message::text(json!({"type": "pong"}).to_string())).await?,
                    _ => bail!("unexpected message before connection_ack: {text}"),
                }
            } else if let Message::Close(frame) = message {
                bail!("the server refused the connection: {frame:?}");
            }
        }
        let start = json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } });
        socket.send(Message::text(start.to_string())).await?;
        Ok(Subscription { socket, done: false })
    }
}

/// An open subscription; [`Subscription::next`] yields each event until the server completes it.
pub struct Subscription {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    done: bool,
}

impl Subscription {
    /// The next event, `None` once the server completed the subscription or closed.
    pub async fn next(&mut self) -> Option<anyhow::Result<GraphqlResponse>> {
        while !self.done {
            let message = match self.socket.next().await? {
                Ok(message) => message,
                Err(err) => return Some(Err(err.into())),
            };
            let text = match message {
                Message::Text(text) => text,
                Message::Close(_) => return None,
                _ => continue,
            };
            let mut value: Value = match serde_json::from_str(&text) {
                Ok(value) => value,
                Err(err) => return Some(Err(err.into())),
            };
            match value["type"].as_str() {
                Some("next") => return Some(GraphqlResponse::from_json(value["payload"].take())),
                Some("error") => {
                    self.done = true;
                    return Some(GraphqlResponse::from_json(json!({ "errors": value["payload"].take() })));
                }
                Some("complete") => self.done = true,
                Some("ping") => {
                    if let Err(err) = self.socket.send(Message::text(json!({"type": "pong"}).to_string())).await {
                        return Some(Err(err.into()));
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Leaves the subscription, as a client that navigates away would.
    pub async fn close(mut self) {
        let _ = self.socket.send(Message::text(json!({"id": "1", "type": "complete"}).to_string())).await;
        let _ = self.socket.close(None).await;
    }
}

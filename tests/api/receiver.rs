//! A webhook receiver for the tests: a real HTTP server on 127.0.0.1 that records every request
//! and answers with the status the test sets (or holds the first request unanswered).

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status answered (0: held unanswered).
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn id(&self) -> String {
        self.header("webhook-id").expect("webhook-id").to_owned()
    }

    pub fn type_(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }

    /// Verifies the Standard Webhooks signature with an independent implementation.
    pub fn verify(&self, secret: &str) -> Result<(), String> {
        let mut headers = http::HeaderMap::new();
        for (name, value) in &self.headers {
            headers.append(
                http::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?,
                http::HeaderValue::from_str(value).map_err(|e| e.to_string())?,
            );
        }
        standardwebhooks::Webhook::new(secret)
            .map_err(|e| format!("{e:?}"))?
            .verify(&self.body, &headers)
            .map_err(|e| format!("{e:?}"))
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    status: AtomicU16,
    hold_first: AtomicBool,
}

pub struct Receiver {
    pub port: u16,
    state: Arc<State>,
    handle: Option<ServerHandle>,
}

async fn hook(req: HttpRequest, body: web::Bytes, state: web::Data<Arc<State>>) -> HttpResponse {
    let hold = state.hold_first.swap(false, Ordering::SeqCst);
    let status = if hold {
        0
    } else {
        state.status.load(Ordering::SeqCst)
    };
    state.received.lock().unwrap().push(Received {
        path: req.path().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        answered: status,
    });
    if hold {
        actix_web::rt::time::sleep(Duration::from_secs(120)).await;
    }
    let code = actix_web::http::StatusCode::from_u16(status.max(200)).unwrap();
    let mut response = HttpResponse::build(code);
    if (300..400).contains(&status) {
        response.insert_header(("location", "/redirected"));
    }
    response.finish()
}

impl Receiver {
    /// A receiver answering `status`, listening now.
    pub async fn start(status: u16) -> Self {
        let mut r = Self::reserve(status);
        r.listen();
        r
    }

    /// A receiver with a port but not listening yet (connections are refused).
    pub fn reserve(status: u16) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let state = Arc::new(State::default());
        state.status.store(status, Ordering::SeqCst);
        Self {
            port,
            state,
            handle: None,
        }
    }

    /// Starts listening on the reserved port.
    pub fn listen(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("the receiver's port");
        let state = self.state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .default_service(web::to(hook))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .shutdown_timeout(0)
        .run();
        self.handle = Some(server.handle());
        actix_web::rt::spawn(server);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn set_status(&self, status: u16) {
        self.state.status.store(status, Ordering::SeqCst);
    }

    /// Holds the next request without answering (as a receiver that hangs).
    pub fn hold_next(&self) {
        self.state.hold_first.store(true, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received, or panics after `secs` seconds.
    pub async fn wait_for(
        &self,
        secs: u64,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {what}; received: {:?}",
                received
                    .iter()
                    .map(|r| (
                        r.path.clone(),
                        r.answered,
                        String::from_utf8_lossy(&r.body).into_owned()
                    ))
                    .collect::<Vec<_>>()
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.stop(false).await;
        }
    }
}

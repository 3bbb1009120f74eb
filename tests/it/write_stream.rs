//! A stream of clients through nginx, each from its own loopback address: sign
//! up, log in, add items, read the profile and the items, again and again. Every
//! answer is recorded, and so is every write that was acknowledged (2xx), for
//! the restart and crash tests to look for afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use reqwest::blocking::Client;
use serde_json::json;

use crate::support::TestServer;
use crate::support::nginx::Nginx;

const PASSWORD: &str = "a rather long passphrase 42";

/// What one request of the stream got.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub method: &'static str,
    pub path: &'static str,
    /// The status, or the transport error.
    pub result: Result<u16, String>,
}

/// What one client did.
#[derive(Debug, Default)]
pub(crate) struct Record {
    pub outcomes: Vec<Outcome>,
    /// Users whose sign-up was acknowledged, with the items acknowledged for them.
    pub acknowledged: Vec<(String, Vec<String>)>,
}

/// Clients running until [`Stream::finish`].
pub(crate) struct Stream {
    stop: Arc<AtomicBool>,
    clients: Vec<JoinHandle<Record>>,
}

/// The settings the stream needs: every client gets its sign-ups, and nginx is
/// trusted to name the client.
pub(crate) const STREAM_ENV: [(&str, &str); 2] = [
    ("LATCHKEY_SIGNUP_ADDRESS_PER_HOUR", "100000"),
    ("LATCHKEY_TRUSTED_PROXIES", "[\"127.0.0.1\"]"),
];

impl Stream {
    /// Starts `count` clients against `nginx`; client `n` comes from 127.0.1.n.
    pub(crate) fn start(nginx: &Nginx, count: u8) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (1..=count)
            .map(|n| {
                let client = nginx.client_from([127, 0, 1, n].into());
                let base = nginx.url("");
                let stop = stop.clone();
                std::thread::spawn(move || run(&client, &base, n, &stop))
            })
            .collect();
        Self { stop, clients }
    }

    /// Stops the clients and returns what each did.
    pub(crate) fn finish(self) -> Vec<Record> {
        self.stop.store(true, Ordering::SeqCst);
        self.clients
            .into_iter()
            .map(|client| client.join().expect("a client thread panicked"))
            .collect()
    }
}

fn run(client: &Client, base: &str, n: u8, stop: &AtomicBool) -> Record {
    let mut record = Record::default();
    let mut round = 0;
    while !stop.load(Ordering::SeqCst) {
        round += 1;
        let username = format!("stream-{n}-{round}");
        let signed_up = send(
            &mut record,
            "POST",
            "/users/",
            client
                .post(format!("{base}/users/"))
                .json(&json!({"username": username, "password": PASSWORD})),
        );
        if signed_up.is_none() {
            continue;
        }
        record.acknowledged.push((username.clone(), Vec::new()));
        let login = client
            .post(format!("{base}/token"))
            .form(&[("username", username.as_str()), ("password", PASSWORD)]);
        let Some(body) = send(&mut record, "POST", "/token", login) else {
            continue;
        };
        let token = body["access_token"].as_str().unwrap_or_default().to_owned();
        for item in ["first", "second", "third"] {
            let add = client
                .post(format!("{base}/users/me/items/"))
                .bearer_auth(&token)
                .json(&json!({"item_id": item}));
            if send(&mut record, "POST", "/users/me/items/", add).is_some()
                && let Some((_, items)) = record.acknowledged.last_mut()
            {
                items.push(item.to_owned());
            }
            let me = client.get(format!("{base}/users/me/")).bearer_auth(&token);
            send(&mut record, "GET", "/users/me/", me);
        }
        let items = client
            .get(format!("{base}/users/me/items/"))
            .bearer_auth(&token);
        send(&mut record, "GET", "/users/me/items/", items);
    }
    record
}

/// Sends `request`, records the outcome, and returns the JSON body of a 2xx.
fn send(
    record: &mut Record,
    method: &'static str,
    path: &'static str,
    request: reqwest::blocking::RequestBuilder,
) -> Option<serde_json::Value> {
    match request.send() {
        Ok(response) => {
            let status = response.status();
            record.outcomes.push(Outcome {
                method,
                path,
                result: Ok(status.as_u16()),
            });
            status
                .is_success()
                .then(|| response.json().unwrap_or(serde_json::Value::Null))
        }
        Err(error) => {
            record.outcomes.push(Outcome {
                method,
                path,
                result: Err(error.to_string()),
            });
            None
        }
    }
}

/// Asserts that every acknowledged write of `records` is in the database of
/// `server`, and that the database is consistent; returns how many writes.
pub(crate) fn assert_acknowledged_writes_present(server: &TestServer, records: &[Record]) -> usize {
    let database = server.database();
    if database.url().starts_with("sqlite:") {
        assert_eq!(
            database.query_texts("PRAGMA integrity_check", &[]),
            vec!["ok".to_owned()]
        );
        assert!(
            database
                .query_texts("PRAGMA foreign_key_check", &[])
                .is_empty(),
            "rows break a foreign key"
        );
    }
    let orphans = database.query_texts(
        "SELECT i.item_id FROM items i LEFT JOIN users u ON u.id = i.owner_id WHERE u.id IS NULL",
        &[],
    );
    assert!(orphans.is_empty(), "items without a user: {orphans:?}");
    let mut writes = 0;
    for (username, items) in records.iter().flat_map(|r| &r.acknowledged) {
        let found =
            database.query_texts("SELECT username FROM users WHERE username = ?", &[username]);
        assert_eq!(found, vec![username.clone()], "acknowledged sign-up lost");
        let mut stored = database.query_texts(
            "SELECT i.item_id FROM items i JOIN users u ON u.id = i.owner_id \
             WHERE u.username = ? ORDER BY i.item_id",
            &[username],
        );
        stored.sort();
        let mut expected = items.clone();
        expected.sort();
        // Every acknowledged item is there; an unacknowledged one may be too (its
        // answer was lost, not its write).
        for item in &expected {
            assert!(
                stored.contains(item),
                "{username}: acknowledged item {item} lost: {stored:?}"
            );
        }
        writes += 1 + items.len();
    }
    writes
}

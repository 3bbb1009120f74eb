//! Two latchkey instances sharing one database, on two loopback ports, behind
//! nginx running the repository's `deploy/nginx.conf` (TLS at nginx). What one
//! instance does, the other knows at once; the throttle counts across both; the
//! client address is the one nginx names, and only because nginx is trusted.

use std::collections::BTreeSet;
use std::net::IpAddr;

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};

use crate::support::nginx::{Nginx, upstream_of};
use crate::support::{Auth, TestServer, parts};

const PASSWORD: &str = "correct horse battery";

/// Two instances over one database, and nginx in front of them.
pub(crate) struct Replicas {
    pub a: TestServer,
    pub b: TestServer,
    pub nginx: Nginx,
}

impl Replicas {
    /// Both instances with `env`, johndoe in the database.
    pub(crate) fn start(env: &[(&str, &str)]) -> Self {
        let a = TestServer::start_with(env);
        a.add_user("johndoe", PASSWORD, &[]);
        let b = TestServer::start_sharing_database(&a, env);
        let nginx = Nginx::start([a.addr(), b.addr()]);
        Self { a, b, nginx }
    }

    /// The instances' addresses as nginx names them.
    pub(crate) fn upstreams(&self) -> BTreeSet<String> {
        [self.a.addr().to_string(), self.b.addr().to_string()].into()
    }
}

fn local(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

fn login_via(client: &Client, nginx: &Nginx, username: &str, password: &str) -> Response {
    client
        .post(nginx.url("/token"))
        .form(&[("username", username), ("password", password)])
        .send()
        .expect("POST /token through nginx")
}

fn me_via(client: &Client, nginx: &Nginx, token: &str) -> Response {
    client
        .get(nginx.url("/users/me/"))
        .bearer_auth(token)
        .send()
        .expect("GET /users/me/ through nginx")
}

#[test]
fn a_token_issued_by_one_instance_works_on_the_other_and_through_nginx() {
    let replicas = Replicas::start(&[]);
    let token = replicas.a.login("johndoe", PASSWORD, None);
    assert_eq!(replicas.b.me(&token)["username"], "johndoe");
    let client = replicas.nginx.client_from(local(2));
    let mut served_by = BTreeSet::new();
    for _ in 0..6 {
        let response = me_via(&client, &replicas.nginx, &token);
        served_by.insert(upstream_of(&response));
        let (status, _, body) = parts(response);
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["username"], "johndoe");
    }
    assert_eq!(served_by, replicas.upstreams(), "nginx balances over both");
}

#[test]
fn logout_on_one_instance_is_refused_on_the_other_at_once() {
    let replicas = Replicas::start(&[]);
    let token = replicas.b.login("johndoe", PASSWORD, None);
    assert_eq!(replicas.a.me(&token)["username"], "johndoe");
    let logout = replicas
        .a
        .request(reqwest::Method::POST, "/logout", Auth::Bearer(&token))
        .send()
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        replicas.b.get("/users/me/", Auth::Bearer(&token)).status(),
        StatusCode::UNAUTHORIZED
    );
    let client = replicas.nginx.client_from(local(2));
    let mut served_by = BTreeSet::new();
    for _ in 0..6 {
        let response = me_via(&client, &replicas.nginx, &token);
        served_by.insert(upstream_of(&response));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(served_by, replicas.upstreams());
}

#[test]
fn the_throttle_counts_failures_spread_over_both_instances() {
    let replicas = Replicas::start(&[
        ("LATCHKEY_TRUSTED_PROXIES", "[\"127.0.0.1\"]"),
        ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "1000"),
    ]);
    let nginx = &replicas.nginx;
    let client = nginx.client_from(local(2));
    let mut served_by = BTreeSet::new();
    for _ in 0..5 {
        let response = login_via(&client, nginx, "johndoe", "wrong password");
        served_by.insert(upstream_of(&response));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        served_by,
        replicas.upstreams(),
        "failures on both instances"
    );
    // Five failures in all, none more than three on one instance: the account is
    // blocked on both, the right password too.
    for _ in 0..2 {
        let response = login_via(&client, nginx, "johndoe", PASSWORD);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(
        replicas.a.login_status("johndoe", PASSWORD),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        replicas.b.login_status("johndoe", PASSWORD),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Three failed logins from 127.0.0.2 through nginx, for an unknown user (the
/// account's block plays no part).
fn fail_three_times_from_127_0_0_2(nginx: &Nginx) {
    let client = nginx.client_from(local(2));
    for _ in 0..3 {
        let response = login_via(&client, nginx, "nobody", "wrong password");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}

const ADDRESS_THROTTLE: [(&str, &str); 2] = [
    ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "1000"),
    ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "3"),
];

#[test]
fn behind_a_trusted_nginx_the_throttle_blocks_the_real_client_only() {
    // The bare address form: only nginx (127.0.0.1) is trusted, not all of 127/8.
    let mut env = ADDRESS_THROTTLE.to_vec();
    env.push(("LATCHKEY_TRUSTED_PROXIES", "[\"127.0.0.1\"]"));
    let replicas = Replicas::start(&env);
    let nginx = &replicas.nginx;
    fail_three_times_from_127_0_0_2(nginx);
    let blocked = nginx.client_from(local(2));
    let other = nginx.client_from(local(3));
    assert_eq!(
        login_via(&blocked, nginx, "johndoe", PASSWORD).status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_via(&other, nginx, "johndoe", PASSWORD).status(),
        StatusCode::OK
    );
    // A client's own X-Forwarded-For names nobody: nginx appends the real
    // address, and latchkey takes the right-most entry nginx did not add.
    let spoofing = |client: &Client, claimed: &str| {
        client
            .post(nginx.url("/token"))
            .header("X-Forwarded-For", claimed)
            .header("X-Real-IP", claimed)
            .form(&[("username", "johndoe"), ("password", PASSWORD)])
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(
        spoofing(&blocked, "198.51.100.7"),
        StatusCode::TOO_MANY_REQUESTS,
        "a blocked client escapes by naming another address"
    );
    assert_eq!(
        spoofing(&other, "127.0.0.2"),
        StatusCode::OK,
        "a client gets itself counted as a blocked one"
    );
}

#[test]
fn behind_an_untrusted_nginx_everyone_is_throttled_as_nginx() {
    let replicas = Replicas::start(&ADDRESS_THROTTLE);
    let nginx = &replicas.nginx;
    fail_three_times_from_127_0_0_2(nginx);
    let other = nginx.client_from(local(3));
    assert_eq!(
        login_via(&other, nginx, "johndoe", PASSWORD).status(),
        StatusCode::TOO_MANY_REQUESTS,
        "without trust, every client through nginx is nginx's address"
    );
    assert_eq!(nginx.address(), local(1));
}

#[test]
fn plain_http_at_nginx_only_redirects_to_https() {
    let replicas = Replicas::start(&[]);
    let nginx = &replicas.nginx;
    let response = nginx
        .client_from(local(1))
        .get(nginx.http_url("/users/me/"))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("https://"), "{location}");
    assert!(location.ends_with("/users/me/"), "{location}");
}

#[test]
fn a_bad_trusted_proxy_is_refused_at_start_up_by_name() {
    let server = TestServer::stopped_with(&[(
        "LATCHKEY_TRUSTED_PROXIES",
        "[\"127.0.0.1\", \"nginx.internal\"]",
    )]);
    let output = server.serve_expecting_exit();
    assert!(!output.status.success());
    assert!(
        output.stderr.contains("\"nginx.internal\""),
        "{}",
        output.stderr
    );
}

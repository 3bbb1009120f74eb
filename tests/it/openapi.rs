//! `/openapi.json` and the Swagger UI at `/docs/`, served by the binary itself.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn openapi(server: &TestServer) -> Value {
    let (status, _, body) = parts(server.get("/openapi.json", Auth::None));
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_object(), "not JSON: {body}");
    body
}

/// The values of every `name="…"` attribute in `html`.
fn attribute_values<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!("{name}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// Whether `text` names an `http(s)://` URL on a host other than `own_host`.
fn foreign_urls<'a>(text: &'a str, own_host: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    for scheme in ["http://", "https://"] {
        for (at, _) in text.match_indices(scheme) {
            let url = &text[at..];
            let end = url
                .find(|c: char| c.is_whitespace() || "\"'<>)".contains(c))
                .unwrap_or(url.len());
            let url = &url[..end];
            if !url[scheme.len()..].starts_with(own_host) {
                found.push(url);
            }
        }
    }
    found
}

#[test]
fn openapi_document_is_version_3_1() {
    let server = TestServer::start();
    let doc = openapi(&server);
    let version = doc["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3.1."), "{version}");
    assert!(doc["info"]["title"].is_string());
}

#[test]
fn openapi_document_has_the_fastapi_paths_and_methods() {
    let server = TestServer::start();
    let doc = openapi(&server);
    let paths = &doc["paths"];
    for (path, method) in [
        ("/token", "post"),
        ("/users/me/", "get"),
        ("/users/me/items/", "get"),
        ("/users/me/items/", "post"),
        ("/users/me/items/{item_id}", "delete"),
        ("/status/", "get"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "no {method} {path} in {}",
            serde_json::to_string(paths).unwrap()
        );
    }
}

#[test]
fn openapi_declares_the_oauth2_password_flow_with_fastapis_scopes() {
    let server = TestServer::start();
    let doc = openapi(&server);
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    let oauth2: Vec<&Value> = schemes
        .values()
        .filter(|scheme| scheme["type"] == "oauth2")
        .collect();
    assert_eq!(oauth2.len(), 1, "{schemes:?}");
    let password = &oauth2[0]["flows"]["password"];
    assert_eq!(password["tokenUrl"], "/token");
    assert_eq!(
        password["scopes"],
        json!({
            "me": "Read information about the current user.",
            "items": "Read items.",
        })
    );
}

#[test]
fn openapi_operations_name_the_scopes_they_need() {
    let server = TestServer::start();
    let doc = openapi(&server);
    let scheme = doc["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, s)| s["type"] == "oauth2")
        .map(|(name, _)| name.clone())
        .unwrap();
    let needed = |path: &str, method: &str| -> Vec<String> {
        let requirements = doc["paths"][path][method]["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} declares no security"));
        let mut scopes: Vec<String> = requirements
            .iter()
            .find_map(|r| r[scheme.as_str()].as_array())
            .unwrap_or_else(|| panic!("{method} {path} does not use {scheme}"))
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect();
        scopes.sort();
        scopes
    };
    assert_eq!(needed("/users/me/", "get"), ["me"]);
    assert_eq!(needed("/users/me/items/", "get"), ["items", "me"]);
    assert_eq!(needed("/status/", "get"), Vec::<String>::new());
}

#[test]
fn token_operation_takes_a_form() {
    let server = TestServer::start();
    let doc = openapi(&server);
    let content = &doc["paths"]["/token"]["post"]["requestBody"]["content"];
    assert!(
        content["application/x-www-form-urlencoded"].is_object(),
        "{content}"
    );
}

#[test]
fn docs_serves_swagger_ui_html() {
    let server = TestServer::start();
    let response = server.get("/docs/", Auth::None);
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
}

#[test]
fn docs_without_slash_leads_to_swagger_ui() {
    let server = TestServer::start();
    let following = http_client(reqwest::redirect::Policy::limited(5));
    let response = following.get(server.url("/docs")).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.url().path(), "/docs/");
    assert!(response.text().unwrap().contains("swagger-ui"));
}

#[test]
fn swagger_ui_loads_everything_from_the_server_itself() {
    let server = TestServer::start();
    let own_host = server.addr().to_string();
    let html = server.get("/docs/", Auth::None).text().unwrap();
    let foreign = foreign_urls(&html, &own_host);
    assert!(foreign.is_empty(), "the page loads {foreign:?}");

    let mut assets: Vec<&str> = attribute_values(&html, "src");
    assets.extend(attribute_values(&html, "href"));
    assert!(
        assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")),
        "no script or stylesheet in {html}"
    );
    let base = reqwest::Url::parse(&server.url("/docs/")).unwrap();
    for asset in assets {
        let url = base.join(asset).unwrap();
        assert_eq!(
            url.host_str(),
            Some("127.0.0.1"),
            "{asset} is not on the server"
        );
        let response = server.client().get(url.clone()).send().unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let body = response.text().unwrap();
        assert!(!body.is_empty(), "{url} is empty");
        if asset.contains("initializer") {
            // The page reads this server's document, and nothing from elsewhere.
            assert!(body.contains("/openapi.json"), "{body}");
            let foreign = foreign_urls(&body, &own_host);
            assert!(foreign.is_empty(), "{asset} loads {foreign:?}");
        }
    }
}

#[test]
fn swagger_ui_does_not_send_the_document_to_the_online_validator() {
    // Unless told otherwise, Swagger UI shows a badge that the browser loads from
    // validator.swagger.io (with this document's URL) whenever the page is not on
    // localhost: in production the docs would reach another host.
    let server = TestServer::start();
    let initializer = server
        .get("/docs/swagger-initializer.js", Auth::None)
        .text()
        .unwrap();
    let compact: String = initializer.split_whitespace().collect();
    assert!(
        compact.contains(r#""validatorUrl":"none""#),
        "{initializer}"
    );
}

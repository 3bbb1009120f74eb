//! The browser app's files as a browser gets them: the login page names files
//! whose names carry their content's hash, cached for a year as immutable, sent
//! precompressed (brotli or gzip, as `Accept-Encoding` asks) and otherwise as they
//! are; the page itself is asked for again on every visit; a first visit stays
//! within its compressed budget.
//!
//! These tests serve the site cargo-leptos built (`cargo leptos build --release
//! --precompress`, as `.ci/test` does), and are skipped when there is none.

use std::io::Read as _;
use std::path::Path;

use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::HeaderMap;

use crate::support::*;

/// What a first visit to the login page should cost, compressed: the page and
/// every file it names (issue 11's target).
const FIRST_VISIT_TARGET: usize = 200 * 1024;
/// What it may cost today: measured at 233 KB (the WebAssembly is 223 KB of it),
/// so the target is not met yet; this keeps it from growing while it is worked on.
const FIRST_VISIT_BUDGET: usize = 240 * 1024;

/// The built site, or `None` after saying why the test is skipped.
fn built_site(test: &str) -> Option<BuiltSite> {
    let site = BuiltSite::find();
    if site.is_none() {
        eprintln!(
            "{test}: no site built by cargo-leptos (target/site and its hash.txt; \
             `cargo leptos build --release --precompress`); skipped"
        );
    }
    site
}

fn serve(site: &BuiltSite) -> TestServer {
    let env = site.server_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestServer::start_with(&env)
}

fn get(server: &TestServer, path: &str, accept_encoding: Option<&str>) -> Response {
    let request = server.client().get(server.url(path));
    let request = match accept_encoding {
        Some(encodings) => request.header("accept-encoding", encodings),
        None => request,
    };
    let response = request.send().expect("GET");
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response
}

fn header(response: &Response, name: &str) -> Option<String> {
    header_value(response.headers(), name).map(str::to_owned)
}

/// The paths under /pkg/ that `html` names (its stylesheet, the script and the
/// WebAssembly the hydration script loads, their preload links).
fn pkg_paths(html: &str) -> Vec<String> {
    let mut paths: Vec<String> = html
        .split("\"/pkg/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|name| format!("/pkg/{name}"))
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// The login page's headers and HTML, as a browser that accepts compression gets it.
fn login_page(server: &TestServer) -> (HeaderMap, String) {
    let response = get(server, "/login", Some("br, gzip"));
    let headers = response.headers().clone();
    (headers, response.text().expect("the page"))
}

fn brotli_decoded(bytes: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::new();
    brotli_decompressor::Decompressor::new(bytes, 4096)
        .read_to_end(&mut decoded)
        .expect("valid brotli");
    decoded
}

fn gzip_decoded(bytes: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut decoded)
        .expect("valid gzip");
    decoded
}

#[test]
fn the_login_page_names_its_files_by_hash_and_they_are_kept_a_year() {
    let Some(site) = built_site("hashed names") else {
        return;
    };
    let server = serve(&site);
    let (page, html) = login_page(&server);
    let paths = pkg_paths(&html);
    for kind in ["js", "wasm", "css"] {
        assert_eq!(
            paths
                .iter()
                .filter(|p| p.ends_with(&format!(".{kind}")))
                .count(),
            1,
            "one .{kind} file named in the page: {paths:?}"
        );
    }
    for path in &paths {
        let name = path.trim_start_matches("/pkg/");
        let hash = name.split('.').nth(1).unwrap_or_default();
        assert!(
            name.split('.').count() == 3
                && hash.len() >= 16
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{path}: not named by a hash"
        );
        let response = get(&server, path, None);
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("public, max-age=31536000, immutable"),
            "{path}"
        );
    }
    assert_eq!(
        header_value(&page, "cache-control"),
        Some("no-cache"),
        "the page is asked for on every visit"
    );
    let icon = get(&server, "/favicon.svg", None);
    assert_eq!(
        header(&icon, "cache-control").as_deref(),
        Some("public, max-age=86400")
    );
    assert_eq!(
        server
            .client()
            .get(server.url("/pkg/latchkey.nosuchhash.js"))
            .send()
            .unwrap()
            .headers()
            .get("cache-control"),
        None,
        "a file not found is not cached"
    );
}

#[test]
fn files_are_sent_precompressed_as_accept_encoding_asks() {
    let Some(site) = built_site("precompressed files") else {
        return;
    };
    let server = serve(&site);
    let (_, html) = login_page(&server);
    for path in pkg_paths(&html) {
        let plain = std::fs::read(site.file(&path)).expect("the built file");
        for (encoding, suffix, decode) in [
            ("br", "br", brotli_decoded as fn(&[u8]) -> Vec<u8>),
            ("gzip", "gz", gzip_decoded),
        ] {
            let precompressed = site.file(&format!("{path}.{suffix}"));
            assert!(
                precompressed.is_file(),
                "no {}: build the site with `cargo leptos build --release --precompress`",
                precompressed.display()
            );
            let response = get(&server, &path, Some(encoding));
            assert_eq!(
                header(&response, "content-encoding").as_deref(),
                Some(encoding),
                "{path}"
            );
            assert_varies_by_encoding(&response, &path);
            let body = response.bytes().unwrap();
            assert_eq!(
                body.as_ref(),
                std::fs::read(&precompressed).unwrap(),
                "{path}: the precompressed file, as built"
            );
            assert!(
                decode(&body) == plain,
                "{path}: {encoding} decodes to the file"
            );
        }
        let response = get(&server, &path, None);
        assert_eq!(header(&response, "content-encoding"), None, "{path}");
        assert_varies_by_encoding(&response, &path);
        assert!(
            response.bytes().unwrap() == plain,
            "{path}: the file as it is"
        );
    }
}

#[track_caller]
fn assert_varies_by_encoding(response: &Response, path: &str) {
    let vary = header(response, "vary").unwrap_or_default();
    assert!(
        vary.to_ascii_lowercase().contains("accept-encoding"),
        "{path}: Vary {vary:?}"
    );
}

#[test]
fn files_the_build_did_not_precompress_are_compressed_as_sent() {
    let Some(site) = built_site("compression as sent") else {
        return;
    };
    // A copy of the site without its .br and .gz files.
    let copy = tempfile::tempdir().unwrap();
    copy_without_precompressed(&site.root, copy.path());
    let unprecompressed = BuiltSite {
        root: copy.path().to_path_buf(),
        hash_file: site.hash_file.clone(),
    };
    let server = serve(&unprecompressed);
    let (_, html) = login_page(&server);
    let wasm = pkg_paths(&html)
        .into_iter()
        .find(|p| p.ends_with(".wasm"))
        .expect("the page names its WebAssembly");
    let plain = std::fs::read(unprecompressed.file(&wasm)).unwrap();
    let response = get(&server, &wasm, Some("br"));
    assert_eq!(header(&response, "content-encoding").as_deref(), Some("br"));
    assert_varies_by_encoding(&response, &wasm);
    let body = response.bytes().unwrap();
    assert!(
        body.len() < plain.len() / 2,
        "compressed: {} bytes",
        body.len()
    );
    assert!(brotli_decoded(&body) == plain);
}

fn copy_without_precompressed(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_without_precompressed(&path, &target);
        } else if !matches!(path.extension().and_then(|e| e.to_str()), Some("br" | "gz")) {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn a_first_visit_to_the_login_page_stays_within_its_compressed_budget() {
    let Some(site) = built_site("first visit budget") else {
        return;
    };
    let server = serve(&site);
    let page = get(&server, "/login", Some("br, gzip"));
    let html = page.text().unwrap();
    let mut total = html.len();
    let mut sizes = vec![("/login".to_owned(), html.len())];
    for path in pkg_paths(&html).into_iter().chain(["/favicon.svg".into()]) {
        let response = get(&server, &path, Some("br, gzip"));
        let size = response.bytes().unwrap().len();
        total += size;
        sizes.push((path, size));
    }
    eprintln!(
        "first visit to /login: {total} bytes compressed ({} over the target of \
         {FIRST_VISIT_TARGET}): {sizes:?}",
        total.saturating_sub(FIRST_VISIT_TARGET)
    );
    assert!(
        total <= FIRST_VISIT_BUDGET,
        "a first visit costs {total} bytes (> {FIRST_VISIT_BUDGET}): {sizes:?}"
    );
}

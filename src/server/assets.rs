//! The browser app's files under the site root. Those under `/pkg` (the
//! WebAssembly, its JavaScript, the stylesheet) carry their content's hash in
//! their names, so browsers keep them a year without asking again
//! (`immutable`); the other public files (the icon) for a day. Both are sent
//! brotli- or gzip-compressed, as `Accept-Encoding` allows: the files the build
//! precompressed (`cargo leptos build --release --precompress`) when there are
//! some, else compressed as they are sent.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::header::{ACCEPT_ENCODING, CACHE_CONTROL, VARY};
use axum::http::{HeaderValue, Response};
use leptos::prelude::LeptosOptions;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use super::StartupError;

/// Files whose names change with their content: kept for a year, never asked again.
const HASHED: &str = "public, max-age=31536000, immutable";
/// Files whose names stay (a build without hash-files): asked again on every use.
const UNHASHED: &str = "no-cache";
/// The other public files (the icon): kept a day.
const PUBLIC: &str = "public, max-age=86400";

/// Completes the build's settings: whether the files are hashed, as cargo-leptos
/// built the server (it also says so at run time, under `cargo leptos serve`), and
/// where the file of their hashes is. Leptos looks beside the binary, where
/// cargo-leptos writes it; an installed server may keep it in the site root
/// instead. A hashed build without the file fails here, not with pages that name
/// files that do not exist.
pub(super) fn locate_hashes(options: &mut LeptosOptions) -> Result<(), StartupError> {
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        options.hash_files = option_env!("LEPTOS_HASH_FILES") == Some("true");
        if let Some(name) = option_env!("LEPTOS_HASH_FILE_NAME") {
            options.hash_file = name.into();
        }
    }
    if !options.hash_files {
        return Ok(());
    }
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let site_root = PathBuf::from(&*options.site_root);
    let found = hash_file_in(&[beside_binary, site_root], &options.hash_file);
    match found {
        Ok(path) => {
            options.hash_file = path.to_string_lossy().as_ref().into();
            Ok(())
        }
        Err(looked_in) => Err(StartupError(format!(
            "the browser app's file names are missing: no {} in {}; build with \
             `cargo leptos build --release`, and install target/release/{} beside the \
             binary or in the site root",
            options.hash_file,
            looked_in.join(" or "),
            options.hash_file,
        ))),
    }
}

/// The first of `dirs` that holds `name` (an absolute `name` is taken as it is),
/// or the places looked in.
fn hash_file_in(dirs: &[PathBuf], name: &str) -> Result<PathBuf, Vec<String>> {
    let candidates: Vec<PathBuf> = dirs.iter().map(|dir| dir.join(name)).collect();
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .ok_or_else(|| {
            candidates
                .iter()
                .map(|path| path.display().to_string())
                .collect()
        })
}

/// `/pkg`: the app's hashed files, precompressed or compressed as sent, kept for a
/// year when their names are hashed.
pub(super) fn pkg_files<S: Clone + Send + Sync + 'static>(options: &LeptosOptions) -> Router<S> {
    let dir = Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let lifetime = if options.hash_files { HASHED } else { UNHASHED };
    let files = ServiceBuilder::new()
        .map_response(move |response| cache_found(response, lifetime))
        .layer(CompressionLayer::new().br(true).gzip(true))
        .layer(SetResponseHeaderLayer::if_not_present(
            VARY,
            HeaderValue::from_static(ACCEPT_ENCODING.as_str()),
        ))
        .service(ServeDir::new(dir).precompressed_br().precompressed_gzip());
    Router::new().nest_service(&format!("/{}", options.site_pkg_dir), files)
}

/// Sets how long a public file found (200) may be kept; the fallback renders
/// every other answer (the not-found page), which is left as it is.
pub(super) fn cache_public_file<B>(response: Response<B>) -> Response<B> {
    cache_found(response, PUBLIC)
}

fn cache_found<B>(mut response: Response<B>, lifetime: &'static str) -> Response<B> {
    if response.status().is_success() {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(lifetime));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_file_beside_the_binary_wins_over_the_site_roots() {
        let root = tempfile::tempdir().expect("temporary directory");
        let (binary, site) = (root.path().join("bin"), root.path().join("site"));
        for dir in [&binary, &site] {
            std::fs::create_dir_all(dir).expect("directory");
            std::fs::write(dir.join("hash.txt"), "js: x\n").expect("hash file");
        }
        let dirs = [binary.clone(), site.clone()];
        assert_eq!(hash_file_in(&dirs, "hash.txt"), Ok(binary.join("hash.txt")));
        std::fs::remove_file(binary.join("hash.txt")).expect("remove");
        assert_eq!(hash_file_in(&dirs, "hash.txt"), Ok(site.join("hash.txt")));
        std::fs::remove_file(site.join("hash.txt")).expect("remove");
        let looked_in = hash_file_in(&dirs, "hash.txt").expect_err("no hash file");
        assert_eq!(looked_in.len(), 2);
    }
}

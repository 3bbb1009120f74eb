//! The browser app as cargo-leptos built it (`target/site`, and the `hash.txt`
//! beside the server binary it built), for the tests that serve its files. The
//! test binary's own `latchkey` is not built by cargo-leptos: it is told where
//! the site and its file names are, as an installed server is.

use std::path::{Path, PathBuf};

/// A site built by `cargo leptos build`, and the file naming its hashed files.
pub struct BuiltSite {
    /// The site root (`target/site`).
    pub root: PathBuf,
    /// cargo-leptos's `hash.txt` for the files in the site.
    pub hash_file: PathBuf,
}

impl BuiltSite {
    /// The site in `target/site`, with the `hash.txt` (of the release or the debug
    /// build) whose files are all there; `None` if there is no such build.
    pub fn find() -> Option<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/site");
        // The test binary's `latchkey` is in <target>/debug; cargo-leptos writes
        // hash.txt beside the binary it builds, in <target>/release or debug.
        let target = Path::new(env!("CARGO_BIN_EXE_latchkey"))
            .parent()?
            .parent()?;
        ["release", "debug"]
            .iter()
            .map(|profile| target.join(profile).join("hash.txt"))
            .find(|hash_file| names_files_in(hash_file, &root.join("pkg")))
            .map(|hash_file| Self { root, hash_file })
    }

    /// The server's environment that serves this site, with hashed names.
    pub fn server_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LEPTOS_OUTPUT_NAME", "latchkey".into()),
            ("LEPTOS_SITE_ROOT", self.root.display().to_string()),
            ("LEPTOS_HASH_FILES", "true".into()),
            (
                "LEPTOS_HASH_FILE_NAME",
                self.hash_file.display().to_string(),
            ),
        ]
    }

    /// The file under the site root at `path` (a URL path such as `/pkg/x.js`).
    pub fn file(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }
}

/// Whether every file `hash_file` names (`js: HASH` is `latchkey.HASH.js`) is in
/// `pkg`.
fn names_files_in(hash_file: &Path, pkg: &Path) -> bool {
    let Ok(hashes) = std::fs::read_to_string(hash_file) else {
        return false;
    };
    let mut named = hashes.lines().filter_map(|line| line.split_once(':'));
    named.clone().count() > 0
        && named.all(|(kind, hash)| {
            pkg.join(format!("latchkey.{}.{}", hash.trim(), kind.trim()))
                .is_file()
        })
}

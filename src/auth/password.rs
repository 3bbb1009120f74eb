//! Password hashing: Argon2id for new hashes; Argon2 (any parameters) and bcrypt
//! (passlib's legacy format) for verification.
//!
//! Hashing is slow on purpose: callers on the async executor use the `*_blocking`
//! wrappers, which run it on tokio's blocking pool.

use std::fmt;

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use argon2::password_hash::{
    Output, ParamsString, PasswordHash as Phc, PasswordHasher as _, PasswordVerifier as _,
    SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

/// A stored password hash (a PHC string or a bcrypt hash).
///
/// Deliberately neither `Serialize` nor printable: it can never leak into a response
/// or a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PasswordHash(String);

impl PasswordHash {
    /// Accepts a hash latchkey can verify: an Argon2 PHC string or a bcrypt hash.
    pub(crate) fn parse(text: &str) -> Result<Self, HashFormatError> {
        if is_bcrypt(text) {
            text.parse::<bcrypt::HashParts>()
                .map_err(|_| HashFormatError)?;
        } else {
            let phc = Phc::new(text).map_err(|_| HashFormatError)?;
            Algorithm::try_from(phc.algorithm).map_err(|_| HashFormatError)?;
            Params::try_from(&phc).map_err(|_| HashFormatError)?;
            phc.hash.ok_or(HashFormatError)?;
        }
        Ok(Self(text.to_owned()))
    }

    /// The hash as stored. Only the store should need this.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Its algorithm and costs, which decide how long checking a password takes:
    /// never the salt or the hash itself.
    pub(crate) fn kind(&self) -> HashKind {
        let text = self.as_str();
        if is_bcrypt(text) {
            return match text.parse::<bcrypt::HashParts>() {
                Ok(parts) => HashKind(format!("bcrypt cost {}", parts.get_cost())),
                Err(_) => HashKind("unreadable".into()),
            };
        }
        match Phc::new(text) {
            Ok(phc) => {
                let params = Params::try_from(&phc).map_or_else(
                    |_| "?".into(),
                    |p| format!("m={},t={},p={}", p.m_cost(), p.t_cost(), p.p_cost()),
                );
                HashKind(format!("{} {params}", phc.algorithm))
            }
            Err(_) => HashKind("unreadable".into()),
        }
    }
}

/// What decides the cost of checking a password against a hash: its algorithm and
/// cost parameters (`bcrypt cost 12`, `argon2id m=65536,t=3,p=4`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct HashKind(String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// A hash that is neither an Argon2 PHC string nor a bcrypt hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an Argon2 PHC string or a bcrypt ($2a$/$2b$/$2y$) hash")]
pub(crate) struct HashFormatError;

/// The most of a password bcrypt reads.
const BCRYPT_MAX_BYTES: usize = 72;

fn is_bcrypt(text: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| text.starts_with(p))
}

/// The outcome of checking a password against a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Wrong password (or a hash that cannot be read).
    Mismatch,
    /// Right password, and the hash has the current parameters.
    Match,
    /// Right password, but the hash should be replaced by one of the current parameters.
    MatchNeedsRehash,
}

impl Verdict {
    /// Whether the password was right.
    pub(crate) fn is_match(self) -> bool {
        self != Verdict::Mismatch
    }
}

/// The hasher of new passwords: Argon2id with the configured costs.
#[derive(Clone)]
pub(crate) struct PasswordHasher {
    params: Params,
    /// See [`Self::unmatchable_hash`]; made once, in [`Self::new`].
    unmatchable: PasswordHash,
}

/// A hash of `params` with a random salt and a random output, built without
/// hashing; refused parameters are an error, never a panic.
fn unmatchable_hash_of(params: &Params) -> Result<PasswordHash, HashingParametersError> {
    let refused = |e: argon2::password_hash::Error| HashingParametersError(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut output = vec![0; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    OsRng.fill_bytes(&mut output);
    let phc = Phc {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(refused)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output).map_err(refused)?),
    };
    Ok(PasswordHash(phc.to_string()))
}

/// Argon2 parameters that Argon2 itself refuses.
#[derive(Debug, thiserror::Error)]
#[error("invalid Argon2 parameters: {0}")]
pub(crate) struct HashingParametersError(String);

impl PasswordHasher {
    /// A hasher of `memory_kib` KiB, `iterations` passes and `parallelism` lanes.
    pub(crate) fn new(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
    ) -> Result<Self, HashingParametersError> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| HashingParametersError(e.to_string()))?;
        let unmatchable = unmatchable_hash_of(&params)?;
        Ok(Self {
            params,
            unmatchable,
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes `password` with the current parameters (slow: CPU and memory bound).
    pub(crate) fn hash(&self, password: &str) -> PasswordHash {
        let salt = SaltString::generate(&mut OsRng);
        let phc = self
            .argon2()
            .hash_password(password.as_bytes(), &salt)
            // Params were validated in `new` and the salt is generated: this cannot fail.
            .expect("argon2 hashing with validated parameters");
        PasswordHash(phc.to_string())
    }

    /// A hash of the current parameters that no password matches: a random salt
    /// and a random output. Checking a password against it costs what checking
    /// against a real hash of these parameters costs, but making it computes no
    /// hash (cheap: fit for the server's start).
    pub(crate) fn unmatchable_hash(&self) -> PasswordHash {
        self.unmatchable.clone()
    }

    /// Checks `password` against `hash` (slow: CPU and memory bound).
    pub(crate) fn verify(&self, password: &str, hash: &PasswordHash) -> Verdict {
        let text = hash.as_str();
        if is_bcrypt(text) {
            // bcrypt reads at most 72 bytes and stops at a NUL: a longer password, or
            // one with a NUL, would match hashes of other passwords.
            if password.len() > BCRYPT_MAX_BYTES || password.contains('\0') {
                return Verdict::Mismatch;
            }
            return match bcrypt::verify(password, text) {
                Ok(true) => Verdict::MatchNeedsRehash,
                _ => Verdict::Mismatch,
            };
        }
        let Ok(phc) = Phc::new(text) else {
            return Verdict::Mismatch;
        };
        if Argon2::default()
            .verify_password(password.as_bytes(), &phc)
            .is_err()
        {
            return Verdict::Mismatch;
        }
        if self.has_current_parameters(&phc) {
            Verdict::Match
        } else {
            Verdict::MatchNeedsRehash
        }
    }

    fn has_current_parameters(&self, phc: &Phc<'_>) -> bool {
        let Ok(params) = Params::try_from(phc) else {
            return false;
        };
        phc.algorithm == Algorithm::Argon2id.ident()
            && phc.version == Some(Version::V0x13.into())
            && params.m_cost() == self.params.m_cost()
            && params.t_cost() == self.params.t_cost()
            && params.p_cost() == self.params.p_cost()
    }

    /// [`Self::hash`] on the blocking pool, so the async executor is never stalled.
    pub(crate) async fn hash_blocking(&self, password: String) -> PasswordHash {
        let hasher = self.clone();
        run_blocking(move || hasher.hash(&password)).await
    }
}

/// Runs CPU-heavy `work` on tokio's blocking pool; a panic in it resumes here.
pub(crate) async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast_hasher() -> PasswordHasher {
        PasswordHasher::new(1024, 1, 1).unwrap()
    }

    #[test]
    fn new_hash_is_argon2id_and_verifies() {
        let hasher = fast_hasher();
        let hash = hasher.hash("correct horse");
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert_eq!(hasher.verify("correct horse", &hash), Verdict::Match);
        assert_eq!(hasher.verify("wrong horse", &hash), Verdict::Mismatch);
    }

    #[test]
    fn verifies_the_fastapi_seed_hash_of_other_parameters_and_asks_for_rehash() {
        // johndoe / secret from the FastAPI tutorial (m=65536, t=3, p=4).
        let seed = PasswordHash::parse(
            "$argon2id$v=19$m=65536,t=3,p=4$wagCPXjifgvUFBzq4hqe3w$CYaIb8sB+wtD+Vu/P4uod1+Qof8h+1g7bbDlBID48Rc",
        )
        .unwrap();
        assert_eq!(
            fast_hasher().verify("secret", &seed),
            Verdict::MatchNeedsRehash
        );
        assert_eq!(fast_hasher().verify("Secret", &seed), Verdict::Mismatch);
        let seed_hasher = PasswordHasher::new(65536, 3, 4).unwrap();
        assert_eq!(seed_hasher.verify("secret", &seed), Verdict::Match);
    }

    #[test]
    fn verifies_bcrypt_and_always_asks_for_rehash() {
        let hash = PasswordHash::parse(&bcrypt::hash("legacy", 4).unwrap()).unwrap();
        assert_eq!(
            fast_hasher().verify("legacy", &hash),
            Verdict::MatchNeedsRehash
        );
        assert_eq!(fast_hasher().verify("legacy!", &hash), Verdict::Mismatch);
    }

    #[test]
    fn refuses_hashes_it_cannot_verify() {
        for bad in [
            "",
            "secret",
            "$1$abc$def",
            "$argon2id$v=19$m=65536",
            "$2b$12$short",
            "$pbkdf2-sha256$29000$abc$def",
        ] {
            assert_eq!(PasswordHash::parse(bad), Err(HashFormatError), "{bad}");
        }
    }

    #[test]
    fn the_kind_names_the_costs_and_nothing_of_the_hash() {
        let fast = fast_hasher().hash("pw");
        assert_eq!(fast.kind(), HashKind("argon2id m=1024,t=1,p=1".into()));
        assert_eq!(fast_hasher().hash("other").kind(), fast.kind());
        let bcrypt = PasswordHash::parse(&bcrypt::hash("legacy", 4).unwrap()).unwrap();
        assert_eq!(bcrypt.kind(), HashKind("bcrypt cost 4".into()));
    }

    #[test]
    fn the_unmatchable_hash_is_of_the_current_kind_and_matches_no_password() {
        let hasher = fast_hasher();
        let unmatchable = hasher.unmatchable_hash();
        assert_eq!(
            PasswordHash::parse(unmatchable.as_str()),
            Ok(unmatchable.clone())
        );
        assert_eq!(unmatchable.kind(), hasher.hash("pw").kind());
        assert!(hasher.has_current_parameters(&Phc::new(unmatchable.as_str()).unwrap()));
        for password in ["", "pw", "latchkey-dummy-password"] {
            assert_eq!(hasher.verify(password, &unmatchable), Verdict::Mismatch);
        }
        assert_ne!(
            fast_hasher().unmatchable_hash(),
            unmatchable,
            "salt and output are random, made anew by every hasher"
        );
    }

    #[test]
    fn debug_output_never_shows_the_hash() {
        let hash = fast_hasher().hash("pw");
        assert_eq!(format!("{hash:?}"), "PasswordHash([redacted])");
    }

    #[test]
    fn very_long_passwords_are_handled() {
        let hasher = fast_hasher();
        let long = "x".repeat(1 << 20);
        let hash = hasher.hash(&long);
        assert_eq!(hasher.verify(&long, &hash), Verdict::Match);
    }
}

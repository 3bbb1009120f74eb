//! Password hashing: Argon2id for new hashes; Argon2 (any parameters) and bcrypt
//! (passlib's legacy format) for verification.
//!
//! Hashing is slow on purpose: callers on the async executor run it in a hashing
//! slot (`hashing_pool`), which lends it a [`HashMemory`] kept between hashes, or
//! use the `*_blocking` wrappers, which run it on tokio's blocking pool.

use std::fmt;

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use argon2::password_hash::{Output, ParamsString, PasswordHash as Phc, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

/// Argon2's working memory (`m` KiB), to be kept between hashes: allocating
/// and faulting in 64 MiB anew for every hash costs about a third of its time.
/// Argon2 writes every block before it reads it, so what an earlier hash left in
/// it changes nothing.
#[derive(Default)]
pub(crate) struct HashMemory(Vec<Block>);

impl HashMemory {
    /// The first `count` blocks, growing the memory to that size if it is smaller.
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            // Anew rather than grown: nothing in it needs to be kept.
            self.0 = Vec::new();
            self.0 = vec![Block::default(); count];
        }
        &mut self.0[..count]
    }

    /// Gives the memory back if it is larger than `count` blocks (a hash of
    /// costlier parameters than the current ones was checked).
    fn keep_at_most(&mut self, count: usize) {
        if self.0.len() > count {
            self.0 = Vec::new();
        }
    }

    /// How many bytes it holds.
    pub(crate) fn bytes(&self) -> usize {
        self.0.len() * std::mem::size_of::<Block>()
    }
}

/// The hasher of new passwords: Argon2id with the configured costs.
#[derive(Clone)]
pub(crate) struct PasswordHasher {
    params: Params,
    /// `params` as a PHC string writes them.
    params_string: ParamsString,
    /// See [`Self::unmatchable_hash`]; made once, in [`Self::new`].
    unmatchable: PasswordHash,
}

/// The Argon2id PHC string of `output`, computed with `params` and `salt`.
fn argon2id_phc(
    params: &ParamsString,
    salt: &SaltString,
    output: &[u8],
) -> Result<PasswordHash, argon2::password_hash::Error> {
    let phc = Phc {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params.clone(),
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(output)?),
    };
    Ok(PasswordHash(phc.to_string()))
}

/// A password Argon2 would not hash.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub(crate) struct HashingError(String);

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
        let refused = |e: argon2::password_hash::Error| HashingParametersError(e.to_string());
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| HashingParametersError(e.to_string()))?;
        let params_string = ParamsString::try_from(&params).map_err(refused)?;
        // No password matches a random output, and making it computes no hash.
        let mut output = vec![0; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
        OsRng.fill_bytes(&mut output);
        let unmatchable = argon2id_phc(&params_string, &SaltString::generate(&mut OsRng), &output)
            .map_err(refused)?;
        Ok(Self {
            params,
            params_string,
            unmatchable,
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes `password` with the current parameters (slow: CPU and memory bound),
    /// in memory of its own.
    pub(crate) fn hash(&self, password: &str) -> Result<PasswordHash, HashingError> {
        self.hash_in(password, &mut HashMemory::default())
    }

    /// Hashes `password` with the current parameters, in `memory`. Refused only
    /// for what Argon2 cannot take (a password of 4 GiB or more).
    pub(crate) fn hash_in(
        &self,
        password: &str,
        memory: &mut HashMemory,
    ) -> Result<PasswordHash, HashingError> {
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0; 64];
        let mut output = vec![0; self.output_len()];
        let hashed = salt
            .as_salt()
            .decode_b64(&mut salt_bytes)
            .and_then(|salt_bytes| {
                Ok(self.argon2().hash_password_into_with_memory(
                    password.as_bytes(),
                    salt_bytes,
                    &mut output,
                    memory.blocks(self.params.block_count()),
                )?)
            })
            .and_then(|()| argon2id_phc(&self.params_string, &salt, &output));
        hashed.map_err(|e| HashingError(e.to_string()))
    }

    fn output_len(&self) -> usize {
        self.params
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN)
    }

    /// A hash of the current parameters that no password matches: a random salt
    /// and a random output. Checking a password against it costs what checking
    /// against a real hash of these parameters costs, but making it computes no
    /// hash (cheap: fit for the server's start).
    pub(crate) fn unmatchable_hash(&self) -> PasswordHash {
        self.unmatchable.clone()
    }

    /// Checks `password` against `hash` (slow: CPU and memory bound), in memory of
    /// its own.
    #[cfg(test)]
    pub(crate) fn verify(&self, password: &str, hash: &PasswordHash) -> Verdict {
        self.verify_in(password, hash, &mut HashMemory::default())
    }

    /// Checks `password` against `hash`; an Argon2 hash is computed in `memory`.
    pub(crate) fn verify_in(
        &self,
        password: &str,
        hash: &PasswordHash,
        memory: &mut HashMemory,
    ) -> Verdict {
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
        let matched = argon2_matches(password.as_bytes(), &phc, memory);
        memory.keep_at_most(self.params.block_count());
        if !matched {
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

    /// [`Self::hash`] on a hashing thread ([`on_hashing_thread`]), so the async
    /// executor is never stalled.
    pub(crate) async fn hash_blocking(
        &self,
        password: String,
    ) -> Result<PasswordHash, HashingError> {
        let hasher = self.clone();
        on_hashing_thread(move || hasher.hash(&password)).await?
    }
}

/// Whether `password` gives the output of the Argon2 hash `phc` (of any variant,
/// version and costs), computed in `memory`; compared in constant time.
fn argon2_matches(password: &[u8], phc: &Phc<'_>, memory: &mut HashMemory) -> bool {
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm) else {
        return false;
    };
    let Ok(version) = phc
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(phc) else {
        return false;
    };
    let mut salt_bytes = [0; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let count = params.block_count();
    let mut output = vec![0; expected.len()];
    let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        &mut output,
        memory.blocks(count),
    );
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(&output).is_ok_and(|output| output == expected)
}

/// How much lower than the request threads' the hashing threads' CPU priority is
/// (a nice value): a thread at 10 gets about a tenth of a core that a request
/// thread also wants, and all of a core nobody else wants.
const HASHING_NICENESS: i32 = 10;

/// Runs CPU-heavy `work` (a password hash) on a thread of its own, at a lower CPU
/// priority than the threads that answer requests: when both want the cores,
/// requests go first, so a login storm slows the logins, not every signed-in
/// request. A panic in `work` resumes here.
pub(crate) async fn on_hashing_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashingError> {
    let runtime = tokio::runtime::Handle::current();
    // Waited for on tokio's blocking pool, so that the runtime counts the hash as
    // work in flight (a paused test clock does not jump over it).
    let outcome = tokio::task::spawn_blocking(move || {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("latchkey-hash".into())
                .spawn_scoped(scope, move || {
                    // Inside the runtime, as on tokio's threads: `work` may spawn.
                    let _runtime = runtime.enter();
                    lower_cpu_priority();
                    work()
                })
                .map(|hashing| hashing.join())
        })
    })
    .await;
    match outcome {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(panic))) => std::panic::resume_unwind(panic),
        Ok(Err(e)) => Err(HashingError(format!("cannot start a hashing thread: {e}"))),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Lowers the calling thread's CPU priority (on Linux a nice value is a thread's
/// own); if the system refuses, the hash runs at the usual priority.
fn lower_cpu_priority() {
    let thread = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(thread), HASHING_NICENESS) {
        tracing::debug!(error = %e, "cannot lower the hashing thread's priority");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_run_at_a_lower_cpu_priority_than_requests() {
        let niceness = || rustix::process::getpriority_process(Some(rustix::thread::gettid()));
        let here = niceness().unwrap();
        let hashing = on_hashing_thread(niceness).await.unwrap().unwrap();
        assert_eq!(hashing, (here + HASHING_NICENESS).min(19));
    }

    fn fast_hasher() -> PasswordHasher {
        PasswordHasher::new(1024, 1, 1).unwrap()
    }

    #[test]
    fn new_hash_is_argon2id_and_verifies() {
        let hasher = fast_hasher();
        let hash = hasher.hash("correct horse").unwrap();
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
        let fast = fast_hasher().hash("pw").unwrap();
        assert_eq!(fast.kind(), HashKind("argon2id m=1024,t=1,p=1".into()));
        assert_eq!(fast_hasher().hash("other").unwrap().kind(), fast.kind());
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
        assert_eq!(unmatchable.kind(), hasher.hash("pw").unwrap().kind());
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
    fn hashes_in_kept_memory_are_standard_and_check_whatever_the_memory_held() {
        use argon2::password_hash::PasswordVerifier as _;
        let hasher = fast_hasher();
        let mut memory = HashMemory::default();
        let first = hasher.hash_in("correct horse", &mut memory).unwrap();
        let second = hasher.hash_in("battery staple", &mut memory).unwrap();
        // What Argon2's own verifier accepts (and so would any other).
        for (password, hash) in [("correct horse", &first), ("battery staple", &second)] {
            let phc = Phc::new(hash.as_str()).unwrap();
            assert!(
                Argon2::default()
                    .verify_password(password.as_bytes(), &phc)
                    .is_ok()
            );
        }
        // Checked in memory that another hash left full, of other sizes too.
        let seed = PasswordHash::parse(
            "$argon2id$v=19$m=65536,t=3,p=4$wagCPXjifgvUFBzq4hqe3w$CYaIb8sB+wtD+Vu/P4uod1+Qof8h+1g7bbDlBID48Rc",
        )
        .unwrap();
        let other = PasswordHasher::new(2048, 1, 2)
            .unwrap()
            .hash("other")
            .unwrap();
        let checks = [
            ("secret", &seed, Verdict::MatchNeedsRehash),
            ("correct horse", &first, Verdict::Match),
            ("battery staple", &first, Verdict::Mismatch),
            ("other", &other, Verdict::MatchNeedsRehash),
            ("secret", &other, Verdict::Mismatch),
        ];
        for _ in 0..2 {
            for (password, hash, verdict) in &checks {
                assert_eq!(
                    hasher.verify_in(password, hash, &mut memory),
                    *verdict,
                    "{password}"
                );
            }
        }
        // A costlier hash's memory is not kept; the current parameters' is.
        assert_eq!(memory.bytes(), 0);
        hasher.verify_in("correct horse", &first, &mut memory);
        assert_eq!(memory.bytes(), 1024 * 1024);
    }

    #[test]
    fn debug_output_never_shows_the_hash() {
        let hash = fast_hasher().hash("pw").unwrap();
        assert_eq!(format!("{hash:?}"), "PasswordHash([redacted])");
    }

    #[test]
    fn very_long_passwords_are_handled() {
        let hasher = fast_hasher();
        let long = "x".repeat(1 << 20);
        let hash = hasher.hash(&long).unwrap();
        assert_eq!(hasher.verify(&long, &hash), Verdict::Match);
    }
}

//! What changed in the database, learnt as it happens: the [`StoreChange`]s.
//!
//! Two ways to hear them: the change feed ([`ChangeFeed`], asynchronous, only
//! what other writers changed; PostgreSQL's LISTEN/NOTIFY), on which the auth
//! core reloads its keyring on [`StoreChange::KeysChanged`] (and on
//! [`StoreChange::Missed`]; the 30 s re-read stays as the safety net); and the
//! [`ChangeHub`](super::ChangeHub) (synchronous, this process's writes too), on
//! which the auth core's cache of sessions and users forgets what changed.

use tokio::sync::broadcast;

/// One change to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreChange {
    /// Signing keys were added, rotated or retired.
    KeysChanged,
    /// The session with this id ended (logout, revocation, reuse, …).
    SessionEnded(String),
    /// This user changed (disabled, a new password, new scopes or profile,
    /// deleted), or their sessions were ended. Empty for a name too long for a
    /// notification: some user.
    UserChanged(String),
    /// Changes may have been missed (the feed lost its connection, or fell
    /// behind): whatever is cached should be read again.
    Missed,
}

impl StoreChange {
    /// Reads a notification's payload (see `migrations/postgres`): `k`,
    /// `s:<session id>` or `u:<username>`.
    pub(crate) fn parse(payload: &str) -> Option<Self> {
        match payload.split_once(':') {
            None if payload == "k" => Some(Self::KeysChanged),
            Some(("s", id)) => Some(Self::SessionEnded(id.to_owned())),
            Some(("u", name)) => Some(Self::UserChanged(name.to_owned())),
            _ => None,
        }
    }
}

/// A subscription to the change feed.
pub(crate) struct ChangeFeed {
    receiver: broadcast::Receiver<StoreChange>,
}

impl ChangeFeed {
    pub(crate) fn new(receiver: broadcast::Receiver<StoreChange>) -> Self {
        Self { receiver }
    }

    /// The next change; [`StoreChange::Missed`] if this subscriber fell behind;
    /// `None` once the feed has ended.
    pub(crate) async fn next(&mut self) -> Option<StoreChange> {
        match self.receiver.recv().await {
            Ok(change) => Some(change),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(StoreChange::Missed),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_payload_the_triggers_send() {
        assert_eq!(StoreChange::parse("k"), Some(StoreChange::KeysChanged));
        assert_eq!(
            StoreChange::parse("s:abc"),
            Some(StoreChange::SessionEnded("abc".into()))
        );
        assert_eq!(
            StoreChange::parse("u:jo:hn"),
            Some(StoreChange::UserChanged("jo:hn".into()))
        );
        assert_eq!(StoreChange::parse("x:1"), None);
        assert_eq!(StoreChange::parse(""), None);
    }
}

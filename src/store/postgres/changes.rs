//! The change feed on PostgreSQL: one `LISTEN latchkey_changes` connection per
//! instance, whose notifications (sent by the schema's triggers) are handed to
//! the store's [`ChangeHub`] and to every subscriber. The connection is made
//! again when lost; what was sent meanwhile is lost, so both are told
//! [`StoreChange::Missed`], and the hub is not hearing until the connection is
//! back (nothing cached is trusted meanwhile).

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::broadcast;

use crate::store::{ChangeFeed, ChangeHub, StoreChange, StoreError};

/// The channel the triggers notify.
const CHANNEL: &str = "latchkey_changes";

/// Changes kept for a subscriber that is slow to read them; one that falls
/// further behind is told [`StoreChange::Missed`].
const BACKLOG: usize = 1024;

/// How long to wait before trying again after the listener failed.
const RETRY: Duration = Duration::from_secs(1);

/// The running listener of one store.
pub(super) struct Listener {
    sender: broadcast::Sender<StoreChange>,
}

impl Listener {
    /// Listens on the change channel (it does once this returns), and hands what
    /// arrives to `hub` and to subscribers from a task of its own. The listening
    /// connection is its own, outside the store's pool, which stays whole for
    /// requests.
    pub(super) async fn start(
        options: PgConnectOptions,
        hub: Arc<ChangeHub>,
    ) -> Result<Self, StoreError> {
        let own = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&own).await?;
        listener.listen(CHANNEL).await?;
        hub.set_hearing(true);
        let (sender, _) = broadcast::channel(BACKLOG);
        tokio::spawn(forward(listener, hub, sender.clone()));
        Ok(Self { sender })
    }

    /// A new subscription.
    pub(super) fn subscribe(&self) -> ChangeFeed {
        ChangeFeed::new(self.sender.subscribe())
    }
}

/// Hands every notification to the hub and the subscribers, until the store
/// is gone.
async fn forward(
    mut listener: PgListener,
    hub: Arc<ChangeHub>,
    sender: broadcast::Sender<StoreChange>,
) {
    loop {
        // `try_recv` answers `None` when the connection was lost.
        let change = match listener.try_recv().await {
            Ok(Some(notification)) => {
                let Some(change) = StoreChange::parse(notification.payload()) else {
                    tracing::warn!("unknown change notification ignored");
                    continue;
                };
                hub.heard(&change);
                change
            }
            Ok(None) => {
                tracing::warn!("the change feed lost its connection; listening again");
                hub.set_hearing(false);
                listen_again(&mut listener).await;
                hub.set_hearing(true);
                StoreChange::Missed
            }
            Err(e) => {
                tracing::warn!(error = %e, "the change feed failed; trying again");
                hub.set_hearing(false);
                tokio::time::sleep(RETRY).await;
                listen_again(&mut listener).await;
                hub.set_hearing(true);
                StoreChange::Missed
            }
        };
        // No subscriber is not an error: they come and go.
        let _ = sender.send(change);
    }
}

/// Connects the listener again, listening on its channel, however long that
/// takes. (Any statement makes it connect, and listen on its channels first.)
async fn listen_again(listener: &mut PgListener) {
    loop {
        match sqlx::query("SELECT 1").execute(&mut *listener).await {
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, "the change feed cannot reconnect yet");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

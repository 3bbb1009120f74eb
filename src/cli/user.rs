//! `latchkey user …`: managing users from the command line.

use std::io::{IsTerminal, Read};
use std::sync::Arc;

use super::{CliError, UserCommand};
use crate::auth::ScopeSet;
use crate::auth::password::PasswordHasher;
use crate::config::Settings;
use crate::policy::check_username;
use crate::store::{self, NewUser, Store, StoreError};

pub(super) async fn run(command: UserCommand, settings: &Settings) -> Result<(), CliError> {
    let store = store::open(&settings.database_url, &settings.data_dir)
        .await
        .map_err(CliError::from_display)?;
    match command {
        UserCommand::Import { file } => super::import::run(&file, store.as_ref()).await,
        UserCommand::Add {
            name,
            email,
            full_name,
            scopes,
            disabled,
        } => {
            check_username(&name).map_err(CliError::from_display)?;
            let scopes = match scopes {
                Some(text) => ScopeSet::parse(&text).map_err(CliError::from_display)?,
                None => ScopeSet::all(),
            };
            if store
                .find_user(&name)
                .await
                .map_err(CliError::from_display)?
                .is_some()
            {
                return Err(CliError(format!("user {name} already exists")));
            }
            let password = read_password()?;
            let password_hash = hasher(settings)?.hash_blocking(password).await;
            let user = NewUser {
                username: name.clone(),
                email,
                full_name,
                disabled,
                password_hash,
                scopes,
            };
            store.create_user(&user).await.map_err(|e| match e {
                StoreError::Conflict(_) => CliError(format!("user {name} already exists")),
                other => CliError::from_display(other),
            })?;
            println!("added user {name}");
            Ok(())
        }
        UserCommand::List => list(store).await,
        UserCommand::SetPassword { name } => {
            require_user(store.as_ref(), &name).await?;
            let password = read_password()?;
            let hash = hasher(settings)?.hash_blocking(password).await;
            store
                .set_password_hash(&name, &hash)
                .await
                .map_err(CliError::from_display)?;
            let ended = end_sessions(store.as_ref(), &name, "password changed").await?;
            println!("password of {name} changed; {ended} session(s) ended");
            Ok(())
        }
        UserCommand::Disable { name } => set_disabled(store.as_ref(), &name, true).await,
        UserCommand::Enable { name } => set_disabled(store.as_ref(), &name, false).await,
        UserCommand::Delete { name } => {
            if !store
                .delete_user(&name)
                .await
                .map_err(CliError::from_display)?
            {
                return Err(no_such_user(&name));
            }
            println!("deleted user {name}");
            Ok(())
        }
    }
}

fn hasher(settings: &Settings) -> Result<PasswordHasher, CliError> {
    PasswordHasher::new(
        settings.argon2_memory_kib,
        settings.argon2_iterations,
        settings.argon2_parallelism,
    )
    .map_err(CliError::from_display)
}

fn no_such_user(name: &str) -> CliError {
    CliError(format!("no user named {name}"))
}

async fn require_user(store: &dyn Store, name: &str) -> Result<(), CliError> {
    match store
        .find_user(name)
        .await
        .map_err(CliError::from_display)?
    {
        Some(_) => Ok(()),
        None => Err(no_such_user(name)),
    }
}

async fn set_disabled(store: &dyn Store, name: &str, disabled: bool) -> Result<(), CliError> {
    if !store
        .set_disabled(name, disabled)
        .await
        .map_err(CliError::from_display)?
    {
        return Err(no_such_user(name));
    }
    if disabled {
        let ended = end_sessions(store, name, "user disabled").await?;
        println!("disabled user {name}; {ended} session(s) ended");
    } else {
        println!("enabled user {name}");
    }
    Ok(())
}

/// Ends every session of `name`: their refresh and access tokens stop working.
async fn end_sessions(store: &dyn Store, name: &str, reason: &str) -> Result<u64, CliError> {
    store
        .revoke_user_sessions(name, reason)
        .await
        .map_err(CliError::from_display)
}

async fn list(store: Arc<dyn Store>) -> Result<(), CliError> {
    let users = store.list_users().await.map_err(CliError::from_display)?;
    let width = users
        .iter()
        .map(|u| u.username.chars().count())
        .max()
        .unwrap_or(0)
        .max("USERNAME".len());
    println!(
        "{:<width$}  {:<8}  {:<10}  {:<24}  FULL NAME",
        "USERNAME", "STATUS", "SCOPES", "EMAIL"
    );
    for user in users {
        println!(
            "{:<width$}  {:<8}  {:<10}  {:<24}  {}",
            user.username,
            if user.disabled { "disabled" } else { "active" },
            user.scopes.to_string(),
            user.email.unwrap_or_default(),
            user.full_name.unwrap_or_default(),
        );
    }
    Ok(())
}

/// The new password: prompted for twice on a terminal, else the first line of stdin.
/// Never taken from the argument list, where other users of the machine could see it.
fn read_password() -> Result<String, CliError> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ").map_err(CliError::from_display)?;
        let second = rpassword::prompt_password("Repeat it: ").map_err(CliError::from_display)?;
        if first != second {
            return Err(CliError("the passwords do not match".into()));
        }
        first
    } else {
        let mut input = String::new();
        std::io::stdin()
            .take(1 << 20)
            .read_to_string(&mut input)
            .map_err(|e| CliError(format!("cannot read the password from stdin: {e}")))?;
        input.lines().next().unwrap_or_default().to_owned()
    };
    if password.is_empty() {
        return Err(CliError("the password must not be empty".into()));
    }
    Ok(password)
}

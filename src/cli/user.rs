//! `latchkey user …`: managing users from the command line.

use std::io::{IsTerminal, Read};

use super::{CliError, UserCommand};
use crate::auth::ScopeSet;
use crate::auth::accounts::{AccountError, Accounts};
use crate::model::NewAccount;
use crate::settings::Settings;
use crate::store;

pub(super) async fn run(command: UserCommand, settings: &Settings) -> Result<(), CliError> {
    let store = store::open(settings.database_url.as_deref(), &settings.data_dir)
        .await
        .map_err(CliError::from_display)?;
    let hasher = settings.password_hasher().map_err(CliError::from_display)?;
    let accounts = Accounts::new(store, hasher);
    match command {
        UserCommand::Import { file } => super::import::run(&file, &accounts).await,
        UserCommand::Add {
            name,
            email,
            full_name,
            scopes,
            disabled,
        } => {
            let scopes = match scopes {
                Some(text) => ScopeSet::parse(&text).map_err(CliError::from_display)?,
                None => ScopeSet::all(),
            };
            // The fields are checked before the password is asked for.
            let mut account = Accounts::check_profile(NewAccount {
                username: name.clone(),
                email,
                full_name,
                password: String::new(),
            })
            .map_err(account_error)?;
            if accounts
                .find(&name)
                .await
                .map_err(CliError::from_display)?
                .is_some()
            {
                return Err(taken(&name));
            }
            account.password = read_password()?;
            let hash = accounts
                .hasher()
                .hash_blocking(account.password.clone())
                .await
                .map_err(CliError::from_display)?;
            accounts
                .create(account, hash, scopes, disabled)
                .await
                .map_err(|e| match e {
                    AccountError::UsernameTaken => taken(&name),
                    other => account_error(other),
                })?;
            println!("added user {name}");
            Ok(())
        }
        UserCommand::List => list(&accounts).await,
        UserCommand::SetPassword { name } => {
            if accounts
                .find(&name)
                .await
                .map_err(CliError::from_display)?
                .is_none()
            {
                return Err(account_error(AccountError::NoSuchUser(name)));
            }
            let password = read_password()?;
            let ended = accounts
                .set_password(&name, password)
                .await
                .map_err(account_error)?;
            println!("password of {name} changed; {ended} session(s) ended");
            Ok(())
        }
        UserCommand::Disable { name } => {
            let ended = accounts
                .set_disabled(&name, true)
                .await
                .map_err(account_error)?;
            println!("disabled user {name}; {ended} session(s) ended");
            Ok(())
        }
        UserCommand::Enable { name } => {
            accounts
                .set_disabled(&name, false)
                .await
                .map_err(account_error)?;
            println!("enabled user {name}");
            Ok(())
        }
        UserCommand::Delete { name } => {
            accounts.delete(&name).await.map_err(account_error)?;
            println!("deleted user {name}");
            Ok(())
        }
    }
}

fn taken(name: &str) -> CliError {
    CliError(format!("user {name} already exists"))
}

/// The operator's one-line reason; a broken rule names its field.
fn account_error(error: AccountError) -> CliError {
    match error {
        AccountError::Invalid(violation) => {
            CliError(format!("{}: {}", violation.field.name(), violation.message))
        }
        other => CliError::from_display(other),
    }
}

async fn list(accounts: &Accounts) -> Result<(), CliError> {
    let users = accounts.list().await.map_err(CliError::from_display)?;
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

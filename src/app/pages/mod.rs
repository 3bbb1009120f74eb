//! One file per page.

mod home;
mod items;
mod login;
mod not_found;
mod profile;
mod signup;

pub(crate) use self::home::HomePage;
pub(crate) use self::login::LoginPage;
pub(crate) use self::not_found::NotFoundPage;
pub(crate) use self::profile::ProfileRoute;
pub(crate) use self::signup::SignupRoute;

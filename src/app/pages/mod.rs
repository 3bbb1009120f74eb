//! One file per page.

mod home;
mod items;
mod login;
mod not_found;
mod profile;
mod signup;

pub use self::home::HomePage;
pub use self::login::LoginPage;
pub use self::not_found::NotFoundPage;
pub use self::profile::ProfilePage;
pub use self::signup::SignupPage;

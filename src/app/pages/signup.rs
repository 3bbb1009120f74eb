//! `/signup`: self-registration, when the server allows it.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use leptos_router::{LazyRoute, lazy_route};

use crate::app::error::AppError;
use crate::app::navigation::registered_login_url;
use crate::app::server_fns::{registration_open, signup};
use crate::model::NewAccount;
use crate::rules::{Field, MIN_PASSWORD_CHARS};

/// The problems shown next to the form's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FieldProblems {
    username: Option<String>,
    email: Option<String>,
    full_name: Option<String>,
    password: Option<String>,
    confirmation: Option<String>,
    form: Option<String>,
}

impl FieldProblems {
    fn any(&self) -> bool {
        *self != FieldProblems::default()
    }

    /// Where a problem of `field` is shown (over the form if it has no place).
    fn slot(&mut self, field: Option<Field>) -> &mut Option<String> {
        match field {
            Some(Field::Username) => &mut self.username,
            Some(Field::Email) => &mut self.email,
            Some(Field::FullName) => &mut self.full_name,
            Some(Field::Password) => &mut self.password,
            Some(Field::ItemId | Field::Description) | None => &mut self.form,
        }
    }

    /// The problem `message`, next to `field`.
    fn at(field: Option<Field>, message: String) -> Self {
        let mut problems = FieldProblems::default();
        *problems.slot(field) = Some(message);
        problems
    }
}

/// The checks the browser can make before sending: the shared account rules, and
/// that the two passwords match.
fn check_before_submit(form: &NewAccount, confirmation: &str) -> FieldProblems {
    let mut problems = FieldProblems::default();
    for violation in form.violations() {
        *problems.slot(Some(violation.field)) = Some(violation.message);
    }
    if form.password != confirmation {
        problems.confirmation = Some("The passwords do not match.".to_owned());
    }
    problems
}

/// The server's answer, placed next to the field it is about.
fn place_server_error(error: AppError) -> FieldProblems {
    match error {
        AppError::Invalid { field, message } => FieldProblems::at(field, message),
        AppError::UsernameTaken => FieldProblems::at(Some(Field::Username), error.to_string()),
        other => FieldProblems::at(None, other.to_string()),
    }
}

/// The sign-up page as a route whose code the browser loads only when it is
/// shown (a file of its own with `cargo leptos --split`).
pub(crate) struct SignupRoute;

#[lazy_route]
impl LazyRoute for SignupRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <SignupPage/> }.into_any()
    }
}

/// The sign-up page: the form if registration is open, a note if not.
#[component]
pub(crate) fn SignupPage() -> impl IntoView {
    let open = Resource::new(|| (), |_| registration_open());
    view! {
        <Title text="Create an account · latchkey"/>
        <section class="card narrow">
            <h1>"Create an account"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match open.await {
                        Ok(true) => view! { <SignupForm/> }.into_any(),
                        Ok(false) => view! {
                            <p>"Self-registration is disabled on this server. Ask an administrator for an account."</p>
                        }.into_any(),
                        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <p class="aside">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}

#[component]
fn SignupForm() -> impl IntoView {
    let username = NodeRef::<Input>::new();
    let email = NodeRef::<Input>::new();
    let full_name = NodeRef::<Input>::new();
    let password = NodeRef::<Input>::new();
    let confirmation = NodeRef::<Input>::new();
    let problems = RwSignal::new(FieldProblems::default());

    let register = Action::new(|form: &NewAccount| signup(form.clone()));
    let pending = register.pending();
    let navigate = use_navigate();
    Effect::new(move |_| match register.value().get() {
        Some(Ok(user)) => navigate(&registered_login_url(&user.username), Default::default()),
        Some(Err(error)) => problems.set(place_server_error(error)),
        None => {}
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let value = |input: NodeRef<Input>| input.get().map(|i| i.value()).unwrap_or_default();
        let optional = |input: NodeRef<Input>| Some(value(input)).filter(|v| !v.trim().is_empty());
        let form = NewAccount {
            username: value(username),
            email: optional(email),
            full_name: optional(full_name),
            password: value(password),
        }
        .normalized();
        let found = check_before_submit(&form, &value(confirmation));
        let blocked = found.any();
        problems.set(found);
        if !blocked {
            register.dispatch(form);
        }
    };
    let problem = move |pick: fn(&FieldProblems) -> Option<String>| move || pick(&problems.get());
    let invalid = move |pick: fn(&FieldProblems) -> Option<String>| {
        move || pick(&problems.get()).is_some().to_string()
    };

    view! {
        <form class="stack" on:submit=on_submit novalidate>
            <label for="signup-username">"Username"</label>
            <input id="signup-username" name="username" type="text" autocomplete="username" autocapitalize="none"
                spellcheck="false" required aria-describedby="signup-username-error"
                aria-invalid=invalid(|p| p.username.clone()) node_ref=username/>
            <p class="error" id="signup-username-error" aria-live="polite">{problem(|p| p.username.clone())}</p>

            <label for="signup-email">"Email (optional)"</label>
            <input id="signup-email" name="email" type="email" autocomplete="email" aria-describedby="signup-email-error"
                aria-invalid=invalid(|p| p.email.clone()) node_ref=email/>
            <p class="error" id="signup-email-error" aria-live="polite">{problem(|p| p.email.clone())}</p>

            <label for="signup-full-name">"Full name (optional)"</label>
            <input id="signup-full-name" name="full_name" type="text" autocomplete="name"
                aria-describedby="signup-full-name-error"
                aria-invalid=invalid(|p| p.full_name.clone()) node_ref=full_name/>
            <p class="error" id="signup-full-name-error" aria-live="polite">{problem(|p| p.full_name.clone())}</p>

            <label for="signup-password">"Password"</label>
            <input id="signup-password" name="password" type="password" autocomplete="new-password" required
                aria-describedby="signup-password-hint signup-password-error"
                aria-invalid=invalid(|p| p.password.clone()) node_ref=password/>
            <p class="hint" id="signup-password-hint">
                {format!("At least {MIN_PASSWORD_CHARS} characters, not your username, and not a common password.")}
            </p>
            <p class="error" id="signup-password-error" aria-live="polite">{problem(|p| p.password.clone())}</p>

            <label for="signup-confirmation">"Repeat the password"</label>
            <input id="signup-confirmation" name="confirmation" type="password" autocomplete="new-password" required
                aria-describedby="signup-confirmation-error"
                aria-invalid=invalid(|p| p.confirmation.clone()) node_ref=confirmation/>
            <p class="error" id="signup-confirmation-error" aria-live="polite">{problem(|p| p.confirmation.clone())}</p>

            <p class="error" role="alert">{problem(|p| p.form.clone())}</p>
            <button type="submit" disabled=pending>
                {move || if pending.get() { "Creating your account…" } else { "Create account" }}
            </button>
        </form>
    }
}

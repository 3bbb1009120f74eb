//! The landing page.

use leptos::prelude::*;

/// What latchkey is, and where its API lives.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"latchkey"</h1>
            <p>"A self-hosted login service: OAuth2 password flow with JWT bearer tokens."</p>
            <ul>
                <li><a href="/docs/">"API documentation (Swagger UI)"</a></li>
                <li><a href="/openapi.json">"OpenAPI document"</a></li>
            </ul>
        </section>
    }
}

//! Relay Desk single-page app (Yew, client-side rendering), built by trunk for wasm32.
//! Pure logic (reducers, token rules, query strings, formatting) is unit-tested on the host.

mod api;
mod app;
mod components;
mod conversation;
#[cfg(test)]
mod fixtures;
mod format;
mod pages;
mod state;
mod storage;
mod workspace;
mod ws;

fn main() {
    yew::Renderer::<app::App>::new().render();
}

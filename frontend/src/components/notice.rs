//! Inline feedback: error banners (with an optional retry), a loading line, empty states.

use yew::prelude::*;

use crate::api::ApiError;

#[derive(Properties, PartialEq)]
pub struct ErrorNoticeProps {
    pub error: ApiError,
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
}

/// `role="alert"` so screen readers announce it as soon as it appears.
#[function_component(ErrorNotice)]
pub fn error_notice(props: &ErrorNoticeProps) -> Html {
    let retry = props.on_retry.clone().map(|cb| {
        html! {
            <button type="button" class="btn btn-small" onclick={move |_| cb.emit(())}>
                { "Try again" }
            </button>
        }
    });
    html! {
        <div class="notice notice-error" role="alert">
            <span>{ props.error.message.clone() }</span>
            { for retry }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct LoadingProps {
    #[prop_or(AttrValue::Static("Loading…"))]
    pub label: AttrValue,
}

#[function_component(Loading)]
pub fn loading(props: &LoadingProps) -> Html {
    html! {
        <p class="loading" role="status">
            <span class="spinner" aria-hidden="true"></span>
            { props.label.clone() }
        </p>
    }
}

#[derive(Properties, PartialEq)]
pub struct EmptyStateProps {
    pub title: AttrValue,
    #[prop_or_default]
    pub children: Html,
}

#[function_component(EmptyState)]
pub fn empty_state(props: &EmptyStateProps) -> Html {
    html! {
        <div class="empty">
            <p class="empty-title">{ props.title.clone() }</p>
            { props.children.clone() }
        </div>
    }
}

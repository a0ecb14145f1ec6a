//! Long lists drawn in part: the first items, then a "Show N more" button. A whole cluster can
//! give thousands of findings, diff lines or extra documents, and drawing them all cost the page
//! about half a second per analysis (BENCHMARKS.md); copy and download always take everything.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Cap {
    shown: usize,
    all: RwSignal<bool>,
}

impl Cap {
    pub fn new(shown: usize) -> Self {
        Cap {
            shown,
            all: RwSignal::new(false),
        }
    }

    /// Draws every item from now on.
    pub fn show_all(self) {
        self.all.set(true);
    }

    /// How many items to draw.
    pub fn limit(self) -> usize {
        if self.all.get() {
            usize::MAX
        } else {
            self.shown
        }
    }

    /// How many of `total` items are not drawn.
    pub fn hidden(self, total: usize) -> usize {
        total.saturating_sub(self.limit())
    }

    /// The button that draws the rest, shown while some are hidden; `label` gets their number.
    pub fn button(
        self,
        total: impl Fn() -> usize + Send + Sync + Copy + 'static,
        label: impl Fn(usize) -> String + Send + Sync + Copy + 'static,
    ) -> impl IntoView {
        view! {
            <Show when=move || self.hidden(total()) != 0>
                <button class="show-all" on:click=move |_| self.show_all()>
                    {move || label(self.hidden(total()))}
                </button>
            </Show>
        }
    }
}

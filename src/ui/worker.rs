//! The page's side of the analysis worker: posts requests, keeps only the newest answer.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use super::protocol::{Analysis, READY, Request};

/// The worker's loader, emitted by Trunk (`data-type="worker" data-loader-shim`) next to the page.
const LOADER: &str = "./worker_loader.js";

pub struct AnalysisWorker {
    worker: web_sys::Worker,
    latest: Rc<Cell<u32>>,
    /// Until the worker says it is ready, the newest request waits here.
    waiting: Rc<RefCell<Option<Request>>>,
    ready: Rc<Cell<bool>>,
}

fn post(worker: &web_sys::Worker, request: &Request) {
    if let Ok(value) = serde_wasm_bindgen::to_value(request) {
        let _ = worker.post_message(&value);
    }
}

impl AnalysisWorker {
    /// Starts the worker; `on_result` receives each analysis that answers the newest request
    /// (answers to requests a newer edit has replaced are dropped).
    pub fn start(on_result: impl Fn(Analysis) + 'static) -> Result<AnalysisWorker, String> {
        // Trunk builds workers for wasm-bindgen's `no-modules` target: a classic worker.
        let worker = web_sys::Worker::new(LOADER)
            .map_err(|e| format!("the analysis worker did not start: {e:?}"))?;
        let latest = Rc::new(Cell::new(0));
        let waiting: Rc<RefCell<Option<Request>>> = Rc::new(RefCell::new(None));
        let ready = Rc::new(Cell::new(false));
        let (current, queued, is_ready, target) = (
            latest.clone(),
            waiting.clone(),
            ready.clone(),
            worker.clone(),
        );
        let onmessage =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let data = event.data();
                if data.as_string().as_deref() == Some(READY) {
                    is_ready.set(true);
                    if let Some(request) = queued.borrow_mut().take() {
                        post(&target, &request);
                    }
                } else if let Ok(analysis) = serde_wasm_bindgen::from_value::<Analysis>(data)
                    && analysis.id == current.get()
                {
                    on_result(analysis);
                }
            });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        onmessage.forget();
        Ok(AnalysisWorker {
            worker,
            latest,
            waiting,
            ready,
        })
    }

    /// Asks for an analysis of `text`; any answer still pending for an older text is dropped.
    pub fn analyse(&self, text: String, settings: String) {
        let id = self.latest.get().wrapping_add(1);
        self.latest.set(id);
        let request = Request { id, text, settings };
        if self.ready.get() {
            post(&self.worker, &request);
        } else {
            *self.waiting.borrow_mut() = Some(request);
        }
    }
}

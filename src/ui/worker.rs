//! The page's side of the analysis worker: posts requests, keeps only the newest answer, and
//! replaces a worker that crashed or overran its time budget (the text is never touched).
//!
//! One request at a time: while the worker analyses, the newest edit waits here (older waiting
//! edits are dropped unanalysed), and goes when the answer comes. Typing on a large input thus
//! never queues analyses of texts that are already stale.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use super::browser;
use super::protocol::{Answer, PANIC, READY, Request};

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The browser's `JSON.parse` of a JS string as it is (js-sys's takes a `&str`: the text
    /// would be copied into the module and out again).
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn parse_json(text: &js_sys::JsString) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>;
}

/// The worker's script (`analysis-worker.js`, copied by Trunk next to the page): it runs the
/// page's own wasm module, which the page posts it.
const SCRIPT: &str = "./analysis-worker.js";

/// An analysis still running after this long is stopped (its worker is replaced). The L
/// cluster of BENCHMARKS.md (2,000 workloads) takes about 0.3 s in Chromium.
pub const BUDGET_SECONDS: u32 = 30;

/// What the page hears from the worker.
pub enum Event {
    /// The analysis of the newest text: for a large text, its findings while the fix is checked
    /// (`Analysis::checking`), then the whole analysis (whose findings are left out when they
    /// are the same).
    Done(Box<Answer>),
    /// The analysis of the newest text failed (crash or time budget); the reason, for people.
    Failed(String),
}

pub struct AnalysisWorker(Rc<Inner>);

struct Inner {
    worker: RefCell<Option<web_sys::Worker>>,
    latest: Cell<u32>,
    /// Until the worker is ready and idle, the newest request waits here.
    waiting: RefCell<Option<Request>>,
    ready: Cell<bool>,
    /// A request is being analysed.
    busy: Cell<bool>,
    /// Its findings have come and the worker is checking its fix (`Analysis::checking`).
    checking: Cell<bool>,
    /// Stops the newest analysis when it overruns; dropped (cancelled) when it answers.
    watchdog: RefCell<Option<Timeout>>,
    on_event: Box<dyn Fn(Event)>,
}

fn post(worker: &web_sys::Worker, request: &Request) {
    let _ = worker.post_message(&request.to_js());
}

impl AnalysisWorker {
    /// Starts the worker; `on_event` receives each analysis that answers the newest request
    /// (answers to requests a newer edit has replaced are dropped) and each failure.
    pub fn start(on_event: impl Fn(Event) + 'static) -> Result<AnalysisWorker, String> {
        let inner = Rc::new(Inner {
            worker: RefCell::new(None),
            latest: Cell::new(0),
            waiting: RefCell::new(None),
            ready: Cell::new(false),
            busy: Cell::new(false),
            checking: Cell::new(false),
            watchdog: RefCell::new(None),
            on_event: Box::new(on_event),
        });
        Inner::spawn(&inner)?;
        Ok(AnalysisWorker(inner))
    }

    /// Asks for an analysis of `text` (checked against the exercise of the lesson `exercise`
    /// names); any answer still pending for an older text is dropped. Returns the request's id,
    /// which its answer carries.
    pub fn analyse(&self, text: String, settings: String, exercise: Option<String>) -> u32 {
        let inner = &self.0;
        let id = inner.latest.get().wrapping_add(1);
        inner.latest.set(id);
        *inner.waiting.borrow_mut() = Some(Request {
            id,
            text,
            settings,
            exercise,
        });
        inner.drop_stale_check();
        inner.send_waiting();
        let weak = Rc::downgrade(inner);
        let watchdog = Timeout::new(BUDGET_SECONDS * 1000, move || {
            if let Some(inner) = weak.upgrade()
                && inner.latest.get() == id
            {
                // This callback's own timer: leak it rather than drop it while it runs.
                if let Some(running) = inner.watchdog.borrow_mut().take() {
                    running.forget();
                }
                inner.fail(format!(
                    "The analysis took longer than {BUDGET_SECONDS} s and was stopped. \
                     Your text is kept; try a smaller part of it."
                ));
            }
        });
        *inner.watchdog.borrow_mut() = Some(watchdog);
        id
    }
}

impl Inner {
    /// Starts a worker and listens to it.
    fn spawn(inner: &Rc<Inner>) -> Result<(), String> {
        // A module worker: it imports the page's JS glue and instantiates the page's compiled
        // module (no second download, no second compilation).
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        let worker = web_sys::Worker::new_with_options(SCRIPT, &options)
            .map_err(|e| format!("the analysis worker did not start: {e:?}"))?;
        let weak: Weak<Inner> = Rc::downgrade(inner);
        let onmessage =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                if let Some(inner) = weak.upgrade() {
                    inner.receive(event.data());
                }
            });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        // The handler lives as long as the worker (a replaced worker's is leaked: rare and small).
        onmessage.forget();
        worker
            .post_message(&wasm_bindgen::module())
            .map_err(|e| format!("the analysis worker did not start: {e:?}"))?;
        inner.ready.set(false);
        inner.busy.set(false);
        inner.checking.set(false);
        *inner.worker.borrow_mut() = Some(worker);
        Ok(())
    }

    fn receive(self: &Rc<Self>, data: wasm_bindgen::JsValue) {
        browser::mark(browser::RECEIVED_MARK);
        // An answer is JSON text (an object); "ready" and panics are plain text.
        let answer = data
            .dyn_ref::<js_sys::JsString>()
            .filter(|s| s.char_code_at(0) == f64::from(b'{'))
            .and_then(|s| parse_json(s).ok());
        if let Some(answer) = answer {
            let Ok(answer) = serde_wasm_bindgen::from_value::<Answer>(answer) else {
                return;
            };
            browser::mark(browser::DECODED_MARK);
            let analysis = &answer.analysis;
            // The findings of a large text come first (`checking`), and the worker goes on
            // with the fix's check; the complete answer, stale or not, frees it for the newest
            // waiting edit.
            let last = !analysis.checking;
            self.checking.set(!last);
            self.drop_stale_check();
            if last {
                browser::mark(browser::ANSWER_MARK);
                self.busy.set(false);
                self.send_waiting();
            }
            if analysis.id == self.latest.get() {
                if last {
                    self.watchdog.borrow_mut().take();
                }
                (self.on_event)(Event::Done(Box::new(answer)));
            }
            return;
        }
        let Some(text) = data.as_string() else {
            return;
        };
        if text == READY {
            self.ready.set(true);
            self.send_waiting();
        } else if let Some(panic) = text.strip_prefix(PANIC) {
            self.fail(format!(
                "The analyser crashed on this text. Your text is kept. Please report it \
                 with the text and this message: {panic}"
            ));
        }
    }

    /// While a newer edit waits, a worker checking the fix of an older text (whose findings
    /// have come) does work of no use: a new worker takes the edit at once (the module is
    /// compiled already), instead of after that check.
    fn drop_stale_check(self: &Rc<Self>) {
        if !(self.busy.get() && self.checking.get() && self.waiting.borrow().is_some()) {
            return;
        }
        // The request in flight ends here, unanswered.
        browser::mark(browser::ANSWER_MARK);
        if let Some(old) = self.worker.borrow_mut().take() {
            old.terminate();
        }
        if let Err(err) = Inner::spawn(self) {
            self.fail(err);
        }
    }

    /// Posts the waiting request if the worker is ready and idle.
    fn send_waiting(&self) {
        if !self.ready.get() || self.busy.get() {
            return;
        }
        if let (Some(request), Some(worker)) =
            (self.waiting.borrow_mut().take(), &*self.worker.borrow())
        {
            post(worker, &request);
            browser::mark(browser::REQUEST_MARK);
            self.busy.set(true);
        }
    }

    /// Replaces the worker (a crashed one is dead, an overrunning one cannot be interrupted) and
    /// says why; the next edit is analysed by the new worker.
    fn fail(self: &Rc<Self>, reason: String) {
        self.watchdog.borrow_mut().take();
        self.waiting.borrow_mut().take();
        if let Some(old) = self.worker.borrow_mut().take() {
            old.terminate();
        }
        let reason = match Inner::spawn(self) {
            Ok(()) => reason,
            Err(err) => format!("{reason} ({err})"),
        };
        (self.on_event)(Event::Failed(reason));
    }
}

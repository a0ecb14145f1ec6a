//! The settings panel: CNI, probe SNAT, mesh membership, fix style and whether Istio proxies
//! (sidecars, gateways) send HBONE. Every change re-runs the analysis (the page posts text and
//! settings to the analysis worker).

use ambient_netpol::ambient::Cni;
use ambient_netpol::ambient::FixStyle;
use ambient_netpol::ambient::mesh::MeshMode;
use leptos::prelude::*;

use super::protocol::{CNIS, MODES, Settings, mode_id};

#[component]
pub fn SettingsPanel(settings: RwSignal<Settings>) -> impl IntoView {
    let bad_addresses = move || settings.with(|s| s.addresses().1);
    // What is set, for the closed panel's summary.
    let now = move || {
        settings.with(|s| {
            let cni = CNIS.iter().find(|c| c.0 == s.cni).map_or("", |c| c.1);
            let fix = if s.fix_style == FixStyle::Add {
                "add policies"
            } else {
                "edit policies"
            };
            format!("CNI: {cni} · mesh: {} · fix: {fix}", mode_id(s.mode))
        })
    };
    // Open beside the editor on wide screens; a line on narrow ones, where room is short.
    view! {
        <details class="settings" open=super::browser::is_wide()>
            <summary>
                <h2 id="settings-title" class="panel-title">"Settings"</h2>
                <span class="settings-now">{now}</span>
            </summary>
            <div class="settings-grid">
                <label>
                    <span>"CNI"</span>
                    <select
                        id="setting-cni"
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            settings.update(|s| s.cni = Cni::parse(&value).unwrap_or_default());
                        }
                        prop:value=move || settings.with(|s| s.cni.as_str())
                    >
                        {CNIS.iter().map(|(cni, name)| view! { <option value=cni.as_str()>{*name}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>"Who is in the mesh"</span>
                    <select
                        id="setting-mode"
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            settings.update(|s| s.mode = MODES.iter().find(|m| m.1 == value).map_or(MeshMode::Auto, |m| m.0));
                        }
                        prop:value=move || settings.with(|s| mode_id(s.mode))
                    >
                        {MODES.iter().map(|(_, id, name)| view! { <option value=*id>{*name}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>"Fix style"</span>
                    <select
                        id="setting-fix-style"
                        on:change=move |ev| {
                            let add = event_target_value(&ev) == "add";
                            settings.update(|s| s.fix_style = if add { FixStyle::Add } else { FixStyle::Edit });
                        }
                        prop:value=move || settings.with(|s| if s.fix_style == FixStyle::Add { "add" } else { "edit" })
                    >
                        <option value="edit">"Edit my policies"</option>
                        <option value="add">"Add separate policies"</option>
                    </select>
                </label>
                <label>
                    <span>"Probe SNAT address(es)"</span>
                    <input
                        id="setting-snat"
                        type="text"
                        spellcheck="false"
                        prop:value=move || settings.with(|s| s.probe_addresses.clone())
                        prop:disabled=move || settings.with(|s| s.host_ip_probes)
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            settings.update(|s| s.probe_addresses = value);
                        }
                    />
                </label>
                {checkbox(
                    settings,
                    "setting-host-ip",
                    "useHostIPForProbeSnat (probes keep the node's IP)",
                    |s| s.host_ip_probes,
                    |s, on| s.host_ip_probes = on,
                )}
                {checkbox(
                    settings,
                    "setting-proxy-hbone",
                    "Istio proxies (sidecars, gateways) send HBONE to ambient pods (ENABLE_HBONE, on in the ambient profile)",
                    |s| s.proxy_hbone,
                    |s, on| s.proxy_hbone = on,
                )}
            </div>
            <Show when=move || !bad_addresses().is_empty()>
                <p class="setting-error" role="alert">
                    {move || format!("Not an IP address: {}. Using 169.254.7.127 until it is.", bad_addresses().join(", "))}
                </p>
            </Show>
        </details>
    }
}

/// A checkbox setting (one function for all of them keeps the page's wasm small).
fn checkbox(
    settings: RwSignal<Settings>,
    id: &'static str,
    label: &'static str,
    get: fn(&Settings) -> bool,
    set: fn(&mut Settings, bool),
) -> impl IntoView {
    view! {
        <label class="checkbox">
            <input
                id=id
                type="checkbox"
                prop:checked=move || settings.with(get)
                on:change=move |ev| {
                    let checked = event_target_checked(&ev);
                    settings.update(|s| set(s, checked));
                }
            />
            <span>{label}</span>
        </label>
    }
}
